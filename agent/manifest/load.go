package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// LoadOptions changes how a manifest is validated.
type LoadOptions struct {
	// Formats lists the valid files[].format names. When empty, the four
	// built-in formats are accepted: dotenv, json, yaml and properties.
	Formats []string
	// TemplateFile, when set, is called with the absolute path of each
	// template file the manifest names, whether or not it can be read:
	// a watcher learns what to watch even from a manifest that failed.
	TemplateFile func(path string)
}

// defaultFormats is used when LoadOptions.Formats is empty.
func defaultFormats() []string { return []string{"dotenv", "json", "yaml", "properties"} }

// topKeys are the keys allowed at the top of a manifest.
var topKeys = []string{"version", "cloud", "identities", "vaults", "secrets", "files", "env", "watch"}

// Load reads the manifest at path and decodes it with Parse. An error
// reading the file is returned wrapped ("read manifest: …"); problems in the
// manifest are returned as Errors.
func Load(path string, opts LoadOptions) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return Parse(path, data, opts)
}

// Parse decodes and validates a manifest. path names the manifest in
// error messages (exactly as given) and its directory is the base for
// relative paths; template files named by the manifest are read. When the
// manifest has problems, Parse returns a nil Manifest and all of them as
// Errors, sorted by position. A malformed YAML document gives a single
// error carrying the YAML parser's message.
func Parse(path string, data []byte, opts LoadOptions) (*Manifest, error) {
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("resolve manifest directory: %w", err)
	}
	formats := opts.Formats
	if len(formats) == 0 {
		formats = defaultFormats()
	}
	p := &parser{
		m: &Manifest{
			Path:       path,
			Dir:        dir,
			Identities: map[string]*Identity{},
			Vaults:     map[string]*Vault{},
			Secrets:    map[string]*Secret{},
		},
		formats:      formats,
		noteTemplate: opts.TemplateFile,
		merged:       map[*yaml.Node][]entry{},
		merging:      map[*yaml.Node]bool{},
	}
	root, yerr := decodeYAML(path, data)
	if yerr != nil {
		return nil, Errors{yerr}
	}
	p.manifest(root)
	if len(p.errs) > 0 {
		return nil, dedupe(p.errs)
	}
	return p.m, nil
}

// yamlLine matches the line number yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeYAML parses data as a single YAML document.
func decodeYAML(path string, data []byte) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: path, Pos: Pos{Line: 1, Col: 1}, Msg: "manifest is empty"}
		}
		return nil, yamlError(path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: path, Pos: posOf(&extra), Msg: "manifest must be a single YAML document"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(path, err)
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: path, Pos: Pos{Line: 1, Col: 1}, Msg: "manifest is empty"}
	}
	return doc.Content[0], nil
}

// yamlError turns a yaml.v3 syntax error into "agent.yaml:3: message".
func yamlError(path string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: path, Pos: Pos{Line: line}, Msg: m[2]}
	}
	if len(msg) > len("yaml: ") && msg[:len("yaml: ")] == "yaml: " {
		msg = msg[len("yaml: "):]
	}
	return &Error{File: path, Msg: msg}
}

// parser collects the manifest and every error found while decoding it.
type parser struct {
	m       *Manifest
	formats []string
	errs    Errors
	merged  map[*yaml.Node][]entry // expanded sources of merge keys
	merging map[*yaml.Node]bool    // merge sources being expanded

	noteTemplate func(path string) // LoadOptions.TemplateFile
}

// errorf records an error at node n.
func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	p.errorAt(posOf(n), field, format, args...)
}

// errorAt records an error at pos.
func (p *parser) errorAt(pos Pos, field, format string, args ...any) {
	p.errs = append(p.errs, p.m.Errorf(pos, field, format, args...))
}

// abs resolves a path from the manifest against the manifest's directory.
func (p *parser) abs(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(p.m.Dir, path)
}

// manifest decodes the top-level mapping. Sections are decoded in
// dependency order so that references can be checked against the names
// defined before them.
func (p *parser) manifest(root *yaml.Node) {
	if root = deref(root); root.Kind != yaml.MappingNode {
		p.errorf(root, "", "the manifest must be a mapping with version, vaults, secrets, …, got %s", describe(root))
		return
	}
	o, ok := p.object(root, "", topKeys...)
	if !ok {
		return
	}
	p.version(o)
	p.cloud(o)
	p.identities(o)
	p.vaults(o)
	p.secrets(o)
	p.files(o)
	p.env(o)
	p.watch(o)
}

// version checks that the manifest declares version 1.
func (p *parser) version(o *object) {
	e, ok := o.fields["version"]
	if !ok {
		o.missing("version")
		return
	}
	n := deref(e.val)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errorf(n, "version", "must be the integer 1, got %s", describe(n))
		return
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v != 1 {
		p.errorf(n, "version", "unsupported version %s (this agent reads version 1)", n.Value)
		return
	}
	p.m.Version = v
}
