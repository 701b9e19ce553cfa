package manifest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// entry is one key/value pair of a YAML mapping.
type entry struct {
	key, val *yaml.Node
}

// posOf returns the position of n.
func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names the YAML type of n for "must be a string, got a list".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return "a " + n.Tag + " value"
	}
	return "an unexpected node"
}

// join appends key to a dotted field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends a list index to a field path.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// entries returns the pairs of mapping n in order, expanding merge keys
// ("<<: *base", explicit keys win) and reporting duplicate and non-string
// keys. It reports a type error and returns false when n is not a mapping.
func (p *parser) entries(n *yaml.Node, path string) ([]entry, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "must be a mapping, got %s", describe(n))
		return nil, false
	}
	var out, merged []entry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = append(merged, p.mergeEntries(v, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode || (k.Tag != "!!str" && k.Tag != "!!int") {
			p.errorf(k, path, "keys must be strings, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k, join(path, k.Value), "duplicate key %q (first defined at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, entry{key: k, val: v})
	}
	for _, e := range merged {
		if _, ok := seen[e.key.Value]; !ok {
			seen[e.key.Value] = e.key
			out = append(out, e)
		}
	}
	return out, true
}

// mergeEntries returns the entries that a merge key ("<<") brings in: from
// one mapping or a list of mappings, earlier mappings winning. Each source
// is expanded once and cached, which keeps nested merges linear, and a
// mapping that merges itself is reported instead of expanded forever.
func (p *parser) mergeEntries(v *yaml.Node, path string) []entry {
	sources := []*yaml.Node{v}
	if d := deref(v); d.Kind == yaml.SequenceNode {
		sources = d.Content
	}
	var out []entry
	seen := map[string]bool{}
	for _, ref := range sources {
		s := deref(ref)
		if p.merging[s] {
			p.errorf(ref, path, "a mapping cannot merge itself")
			continue
		}
		es, done := p.merged[s]
		if !done {
			p.merging[s] = true
			es, _ = p.entries(s, path)
			delete(p.merging, s)
			p.merged[s] = es
		}
		for _, e := range es {
			if !seen[e.key.Value] {
				seen[e.key.Value] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// object is a mapping with a fixed set of keys, such as a vault or a file.
type object struct {
	p      *parser
	node   *yaml.Node
	path   string
	fields map[string]entry
}

// object decodes mapping n whose allowed keys are known, reporting unknown
// keys with a suggestion. It returns false when n is not a mapping.
func (p *parser) object(n *yaml.Node, path string, known ...string) (*object, bool) {
	es, ok := p.entries(n, path)
	if !ok {
		return nil, false
	}
	o := &object{p: p, node: deref(n), path: path, fields: map[string]entry{}}
	for _, e := range es {
		if !slices.Contains(known, e.key.Value) {
			p.errorf(e.key, join(path, e.key.Value), "unknown field%s", didYouMean(e.key.Value, known))
			continue
		}
		o.fields[e.key.Value] = e
	}
	return o, true
}

// has reports whether key is present.
func (o *object) has(key string) bool {
	_, ok := o.fields[key]
	return ok
}

// field returns the path of key.
func (o *object) field(key string) string { return join(o.path, key) }

// pos returns the position of key's value, or of the object when absent.
func (o *object) pos(key string) Pos {
	if e, ok := o.fields[key]; ok {
		return posOf(deref(e.val))
	}
	return posOf(o.node)
}

// missing reports a required key that is absent.
func (o *object) missing(key string) {
	o.p.errorf(o.node, o.path, "missing required field %q", key)
}

// str returns key's string value; ok is false when absent or not a string
// (the latter is reported).
func (o *object) str(key string) (string, bool) {
	e, ok := o.fields[key]
	if !ok {
		return "", false
	}
	return o.p.str(e.val, o.field(key))
}

// requiredStr is str, also reporting a missing key or an empty value.
func (o *object) requiredStr(key string) (string, bool) {
	if !o.has(key) {
		o.missing(key)
		return "", false
	}
	s, ok := o.str(key)
	if ok && s == "" {
		o.p.errorf(o.fields[key].val, o.field(key), "must not be empty")
		return "", false
	}
	return s, ok
}

// str decodes a string scalar.
func (p *parser) str(n *yaml.Node, path string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		p.errorf(n, path, "must be a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// scalarText decodes any non-null scalar as the text the user wrote, for
// values where a number or boolean is unambiguous (env values, owners).
func (p *parser) scalarText(n *yaml.Node, path string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, path, "must be a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// boolean decodes key as a boolean; def when absent.
func (o *object) boolean(key string, def bool) bool {
	e, ok := o.fields[key]
	if !ok {
		return def
	}
	n := deref(e.val)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		o.p.errorf(n, o.field(key), "must be true or false, got %s", describe(n))
		return def
	}
	b, _ := strconv.ParseBool(n.Value) // yaml.v3 tags only true/false/True/TRUE/… as !!bool
	return b
}

// duration decodes key as a Go duration string ("30s", "5m"); def when
// absent. The value must be at least least.
func (o *object) duration(key string, def, least time.Duration) time.Duration {
	e, ok := o.fields[key]
	if !ok {
		return def
	}
	n := deref(e.val)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		o.p.errorf(n, o.field(key), "must be a duration such as \"30s\" or \"5m\", got %s", describe(n))
		return def
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		o.p.errorf(n, o.field(key), "%q is not a duration (use a number with a unit: ms, s, m, h)", n.Value)
		return def
	}
	if d < least {
		o.p.errorf(n, o.field(key), "must be at least %s", least)
		return def
	}
	return d
}

// fraction decodes key as a number between 0 and 1; def when absent.
func (o *object) fraction(key string, def float64) float64 {
	e, ok := o.fields[key]
	if !ok {
		return def
	}
	n := deref(e.val)
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!float" && n.Tag != "!!int") {
		o.p.errorf(n, o.field(key), "must be a number between 0 and 1, got %s", describe(n))
		return def
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		o.p.errorf(n, o.field(key), "must be a number between 0 and 1")
		return def
	}
	return f
}

// strList decodes key as a list of strings, returning the strings and
// their nodes; ok is false (and the lists nil) when key is absent or any
// item is not a string.
func (o *object) strList(key string) ([]string, []*yaml.Node, bool) {
	e, ok := o.fields[key]
	if !ok {
		return nil, nil, false
	}
	n := deref(e.val)
	if n.Kind != yaml.SequenceNode {
		o.p.errorf(n, o.field(key), "must be a list of strings, got %s", describe(n))
		return nil, nil, false
	}
	out := make([]string, 0, len(n.Content))
	nodes := make([]*yaml.Node, 0, len(n.Content))
	good := true
	for i, item := range n.Content {
		s, ok := o.p.str(item, index(o.field(key), i))
		good = good && ok
		out = append(out, s)
		nodes = append(nodes, deref(item))
	}
	if !good {
		return nil, nil, false
	}
	return out, nodes, true
}

// section returns a top-level section; an empty one ("secrets:" with
// nothing under it, which YAML reads as null) counts as absent.
func (o *object) section(key string) (entry, bool) {
	e, ok := o.fields[key]
	if !ok {
		return entry{}, false
	}
	if n := deref(e.val); n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return entry{}, false
	}
	return e, true
}
