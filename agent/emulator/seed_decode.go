package emulator

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong in a seed file, at a position.
type Problem struct {
	File         string
	Line, Column int
	Field        string // dotted path such as vaults.contoso.access[0].identity; may be empty
	Message      string // never contains a secret value
}

// String formats the problem as "file:line:col: field: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ":%d", p.Column)
		}
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// SeedError lists every problem found in a seed file, in file order.
type SeedError struct {
	Problems []Problem
}

// Error returns one problem per line.
func (e *SeedError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// decoder walks a yaml.Node tree and collects problems instead of stopping
// at the first one. Its messages never quote a scalar's value unless the
// caller says the field is not secret.
type decoder struct {
	file       string
	dir        string // relative paths in the seed resolve against it
	problems   []Problem
	identities []nodeRef // every identity defined, for cross-checks
	accessRefs []nodeRef // every access rule's identity
}

// nodeRef remembers where a name was written.
type nodeRef struct {
	name, path, clientID string
	node                 *yaml.Node
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntax records a YAML parse error, extracting its line when it has one.
func (d *decoder) syntax(err error) {
	for _, msg := range strings.Split(err.Error(), "\n") {
		msg = strings.TrimSpace(msg)
		if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			d.problems = append(d.problems, Problem{File: d.file, Line: line, Message: "invalid YAML: " + m[2]})
			continue
		}
		if msg != "" && msg != "yaml: unmarshal errors:" {
			d.problems = append(d.problems, Problem{File: d.file, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")})
		}
	}
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	p := Problem{File: d.file, Field: field, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.problems = append(d.problems, p)
}

func (d *decoder) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	sort.SliceStable(d.problems, func(i, j int) bool {
		a, b := d.problems[i], d.problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return &SeedError{Problems: d.problems}
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return "a scalar"
	}
	return "unsupported YAML"
}

// mapping walks a mapping node in order. Keys not in known (when known is
// non-nil) are reported as unknown; duplicate keys are reported once each.
// field is the path of n; fn gets the child's path.
func (d *decoder) mapping(n *yaml.Node, field string, known []string, fn func(key, path string, k, v *yaml.Node)) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, field, "must be a mapping, not %s", kindName(n))
		return false
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, field, "keys must be scalars")
			continue
		}
		path := k.Value
		if field != "" {
			path = field + "." + k.Value
		}
		if line, dup := seen[k.Value]; dup {
			d.errorf(k, path, "duplicate key (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		if known != nil && !contains(known, k.Value) {
			d.errorf(k, path, "unknown key (known: %s)", strings.Join(known, ", "))
			continue
		}
		fn(k.Value, path, k, v)
	}
	return true
}

// sequence walks a list node.
func (d *decoder) sequence(n *yaml.Node, field string, fn func(i int, path string, item *yaml.Node)) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "must be a list, not %s", kindName(n))
		return
	}
	for i, item := range n.Content {
		fn(i, fmt.Sprintf("%s[%d]", field, i), resolve(item))
	}
}

// str decodes a scalar as a string (numbers and booleans keep their text).
func (d *decoder) str(n *yaml.Node, field string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, field, "must be a string, not %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

// name decodes a non-secret identifier and checks it against re.
func (d *decoder) name(n *yaml.Node, field string, valid func(string) bool, want string) (string, bool) {
	s, ok := d.str(n, field)
	if !ok {
		return "", false
	}
	if !valid(s) {
		d.errorf(n, field, "%q is not %s", s, want)
		return "", false
	}
	return s, true
}

func (d *decoder) boolean(n *yaml.Node, field string) (bool, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	d.errorf(n, field, "must be true or false")
	return false, false
}

func (d *decoder) duration(n *yaml.Node, field string) (time.Duration, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		if v, err := time.ParseDuration(n.Value); err == nil && v >= 0 {
			return v, true
		}
	}
	d.errorf(n, field, "must be a non-negative duration such as 500ms, 30s or 1h")
	return 0, false
}

func (d *decoder) integer(n *yaml.Node, field string, min int) (int, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if v, err := strconv.Atoi(n.Value); err == nil && v >= min {
			return v, true
		}
	}
	d.errorf(n, field, "must be an integer >= %d", min)
	return 0, false
}

func (d *decoder) fraction(n *yaml.Node, field string) (float64, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!float" || n.Tag == "!!int") {
		if v, err := strconv.ParseFloat(n.Value, 64); err == nil && v >= 0 && v <= 1 && !math.IsNaN(v) {
			return v, true
		}
	}
	d.errorf(n, field, "must be a number between 0 and 1")
	return 0, false
}

func (d *decoder) timestamp(n *yaml.Node, field string) (*time.Time, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		if t, err := time.Parse(time.RFC3339, n.Value); err == nil {
			return &t, true
		}
	}
	d.errorf(n, field, "must be an RFC 3339 time such as 2030-01-01T00:00:00Z")
	return nil, false
}

// stringMap decodes a mapping of scalars (tags).
func (d *decoder) stringMap(n *yaml.Node, field string) map[string]string {
	out := map[string]string{}
	d.mapping(n, field, nil, func(key, path string, _, v *yaml.Node) {
		if s, ok := d.str(v, path); ok {
			out[key] = s
		}
	})
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
