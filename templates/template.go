package templates

import (
	"bytes"
	"fmt"
	"sort"
	"text/template"
)

// Template is a parsed template or a built-in format. It is immutable once
// returned and safe for concurrent use: every Execute works on its own copy.
type Template struct {
	name  string
	tmpl  *template.Template
	extra template.FuncMap

	// secretFuncs are the caller's SecretFuncs, whose argument names a secret
	// like the functions for which takesSecretName is true.
	secretFuncs map[string]bool
	// pairFuncs are the caller's SecretPairFuncs, whose second argument names
	// a secret too.
	pairFuncs map[string]bool

	// format is set for built-in formats.
	format *formatSpec
	// only lists a format's secrets; nil means all of them.
	only []string
}

// Parse parses text as a template called name (e.g. "files[2].template"; the
// name appears in errors). Syntax errors carry text/template's line numbers.
func Parse(name, text string) (*Template, error) {
	return ParseWith(name, text, nil)
}

// ParseWith is Parse with extra functions. A value of type [SecretFunc] is
// called with the secret named by its argument; any other value is registered
// with text/template as is. Extra functions may replace built-in ones.
func ParseWith(name, text string, extra template.FuncMap) (*Template, error) {
	t, err := newTemplate(name, text, extra)
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	return t, nil
}

// newTemplate parses text with the package's functions plus extra.
func newTemplate(name, text string, extra template.FuncMap) (*Template, error) {
	var x *execution // parse time: only names and signatures matter
	tmpl, err := template.New(name).
		Option("missingkey=error").
		Funcs(x.funcMap(extra)).
		Parse(text)
	if err != nil {
		return nil, err
	}
	t := &Template{name: name, tmpl: tmpl, extra: extra, secretFuncs: map[string]bool{}, pairFuncs: map[string]bool{}}
	for n, f := range extra {
		switch f.(type) {
		case SecretFunc:
			t.secretFuncs[n] = true
		case SecretPairFunc:
			t.secretFuncs[n] = true
			t.pairFuncs[n] = true
		}
	}
	return t, nil
}

// Name returns the name given to Parse, or the format's name.
func (t *Template) Name() string { return t.name }

// Secrets returns the sorted, deduplicated names of the secrets t uses. For a
// template these are the constant names passed to secret, secretMeta, cert,
// certPFX and every [SecretFunc]; names computed at execution time cannot be
// seen (see the package documentation); the result is never nil. For a format
// it is the list given to [Format], or nil when the format is over all
// secrets ([Template.UsesAll]). The caller may modify the returned slice.
func (t *Template) Secrets() []string {
	if t.format != nil {
		return sortedUnique(t.only)
	}
	return t.referencedSecrets()
}

// UsesAll reports whether t is a format over every secret passed to Execute,
// so the caller must fetch every secret it knows.
func (t *Template) UsesAll() bool {
	return t.format != nil && t.only == nil
}

// Execute renders t with secrets, keyed by reference name. On error it
// returns no output and an [*ExecError] whose message contains no value of
// any secret in secrets.
func (t *Template) Execute(secrets map[string]Secret) (out []byte, err error) {
	x := &execution{secrets: secrets, red: newRedactor(secrets)}
	defer func() {
		// text/template turns panics in functions into errors; this catches
		// anything else so that no value escapes in a panic message.
		if p := recover(); p != nil {
			out, err = nil, &ExecError{Template: t.name, msg: x.red.redact(fmt.Sprint("panic: ", p))}
		}
	}()
	var data any
	if t.format != nil {
		entries, err := t.format.entries(t.only, secrets)
		if err != nil {
			return nil, &ExecError{Template: t.name, msg: x.red.redact(err.Error())}
		}
		data = entries
	}
	tmpl, err := t.tmpl.Clone()
	if err != nil {
		return nil, &ExecError{Template: t.name, msg: x.red.redact(err.Error())}
	}
	tmpl.Funcs(x.funcMap(t.extra))
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, &ExecError{Template: t.name, msg: x.red.redact(safeMessage(err))}
	}
	return b.Bytes(), nil
}

// sortedUnique returns names sorted without duplicates; nil stays nil.
func sortedUnique(names []string) []string {
	if names == nil {
		return nil
	}
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
