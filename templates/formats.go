package templates

import (
	"embed"
	"fmt"
	"sort"
	"strings"
	"text/template"
)

//go:embed formats/*.tmpl
var formatFiles embed.FS

// formatSpec is a built-in format: its functions and, when two reference
// names can map to one output key, the mapping used to detect that.
type formatSpec struct {
	name  string
	funcs template.FuncMap
	// key maps a reference name to its output key when the mapping is lossy.
	key func(string) string
}

// entry is one secret as a format sees it.
type entry struct {
	Name, Value string
}

// formatSpecs returns the built-in formats by name.
func formatSpecs() map[string]*formatSpec {
	return map[string]*formatSpec{
		"dotenv": {
			funcs: template.FuncMap{"envName": envName, "dotenvQuote": dotenvQuote},
			key:   envName,
		},
		"json": {
			funcs: template.FuncMap{"jsonString": yamlQuote},
		},
		"yaml": {
			funcs: template.FuncMap{"yamlKey": yamlKey, "yamlQuote": yamlQuote},
		},
		"properties": {
			funcs: template.FuncMap{"propertiesKey": propertiesKey, "propertiesValue": propertiesValue},
		},
	}
}

// Formats returns the names of the built-in formats, sorted.
func Formats() []string {
	specs := formatSpecs()
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Format returns the built-in format called format over the secrets listed in
// only, or over every secret passed to Execute when only is empty.
func Format(format string, only []string) (*Template, error) {
	spec, ok := formatSpecs()[format]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Formats(), ", "))
	}
	spec.name = format
	text, err := formatFiles.ReadFile("formats/" + format + ".tmpl")
	if err != nil {
		return nil, fmt.Errorf("read format %s: %w", format, err)
	}
	t, err := newTemplate(format, string(text), spec.funcs)
	if err != nil {
		return nil, fmt.Errorf("parse format %s: %w", format, err)
	}
	t.format = spec
	if len(only) > 0 {
		t.only = sortedUnique(only)
	}
	return t, nil
}

// entries returns the secrets a format renders, sorted by name.
func (f *formatSpec) entries(only []string, secrets map[string]Secret) ([]entry, error) {
	names := only
	if names == nil {
		names = make([]string, 0, len(secrets))
		for n := range secrets {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	out := make([]entry, 0, len(names))
	keys := make(map[string]string, len(names))
	for _, n := range names {
		s, ok := secrets[n]
		if !ok {
			return nil, fmt.Errorf("secret %q is not defined", n)
		}
		if f.key != nil {
			k := f.key(n)
			if other, dup := keys[k]; dup {
				return nil, fmt.Errorf("%s: secrets %q and %q both become %s", f.name, other, n, k)
			}
			keys[k] = n
		}
		out = append(out, entry{Name: n, Value: s.Value})
	}
	return out, nil
}
