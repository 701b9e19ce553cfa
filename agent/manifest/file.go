package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileKeys are the keys of a files[] entry.
var fileKeys = []string{"path", "template", "templateFile", "format", "secrets", "cert", "part", "password",
	"mode", "dirMode", "owner", "group", "onChange"}

// certParts are the values of files[].part.
var certParts = []string{"key", "leaf", "chain", "fullchain", "root", "pfx"}

// sourceKeys are the keys that give a file its content; exactly one is required.
var sourceKeys = []string{"template", "templateFile", "format", "cert"}

// files decodes the "files" list.
func (p *parser) files(top *object) {
	e, ok := top.section("files")
	if !ok {
		return
	}
	n := deref(e.val)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "files", "must be a list, got %s", describe(n))
		return
	}
	seen := map[string]int{} // cleaned path → index
	for i, item := range n.Content {
		f, pathPos := p.file(deref(item), index("files", i))
		if f == nil || f.Path == "" {
			continue
		}
		if j, dup := seen[f.Path]; dup {
			p.errorAt(pathPos, index("files", i)+".path", "%q is already written by files[%d] (line %d)", f.Path, j, p.m.Files[j].Pos.Line)
			continue
		}
		seen[f.Path] = len(p.m.Files)
		p.m.Files = append(p.m.Files, f)
	}
}

// file decodes one files[] entry and returns it with the position of its
// path; it returns nil when the entry is not a mapping.
func (p *parser) file(n *yaml.Node, path string) (*File, Pos) {
	o, ok := p.object(n, path, fileKeys...)
	if !ok {
		return nil, Pos{}
	}
	f := &File{Pos: posOf(n), Mode: DefaultFileMode, DirMode: DefaultDirMode}
	if s, ok := o.requiredStr("path"); ok {
		f.Path = p.abs(s)
		if strings.HasSuffix(s, "/") {
			p.errorAt(o.pos("path"), o.field("path"), "must name a file, not a directory")
		} else if f.Path == filepath.Join(p.m.Dir, filepath.Base(p.m.Path)) {
			p.errorAt(o.pos("path"), o.field("path"), "must not be the manifest itself")
		}
	}
	p.fileSource(o, f)
	f.Mode = p.fileMode(o, "mode", DefaultFileMode)
	f.DirMode = p.fileMode(o, "dirMode", DefaultDirMode)
	f.Owner = p.account(o, "owner")
	f.Group = p.account(o, "group")
	if e, ok := o.fields["onChange"]; ok {
		f.OnChange = p.fileOnChange(e.val, o.field("onChange"))
	}
	return f, o.pos("path")
}

// fileSource decodes the one key that gives the file its content, and the
// keys that only make sense with it.
func (p *parser) fileSource(o *object, f *File) {
	var present []string
	for _, k := range sourceKeys {
		if o.has(k) {
			present = append(present, k)
		}
	}
	switch len(present) {
	case 0:
		p.errorAt(posOf(o.node), o.path, "one of template, templateFile, format or cert is required")
	case 1:
		f.TemplatePos = o.pos(present[0])
	default:
		p.atMostOne(o, sourceKeys...)
	}
	if s, ok := o.str("template"); ok {
		f.Template = s
	}
	if s, ok := o.str("templateFile"); ok {
		p.readTemplateFile(o, f, s)
	}
	if s, ok := o.str("format"); ok {
		if slices.Contains(p.formats, s) {
			f.Format = s
		} else {
			p.errorAt(o.pos("format"), o.field("format"), "unknown format %q (valid: %s)%s", s, strings.Join(p.formats, ", "), didYouMean(s, p.formats))
		}
	}
	p.formatSecrets(o, f)
	p.fileCert(o, f)
}

// formatSecrets decodes the list of secrets a format covers.
func (p *parser) formatSecrets(o *object, f *File) {
	if !o.has("secrets") {
		return
	}
	if !o.has("format") {
		p.errorf(o.fields["secrets"].key, o.field("secrets"), "only valid with format")
	}
	names, nodes, _ := o.strList("secrets")
	for i, name := range names {
		field := index(o.field("secrets"), i)
		if slices.Contains(names[:i], name) {
			p.errorf(nodes[i], field, "secret %q is listed twice", name)
		} else if p.secretRef(nodes[i], field, name) {
			f.FormatSecrets = append(f.FormatSecrets, name)
		}
	}
}

// readTemplateFile reads the template file named by the manifest, relative
// to the manifest's directory.
func (p *parser) readTemplateFile(o *object, f *File, name string) {
	if name == "" {
		p.errorAt(o.pos("templateFile"), o.field("templateFile"), "must not be empty")
		return
	}
	abs := p.abs(name)
	if p.noteTemplate != nil {
		p.noteTemplate(abs)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		p.errorAt(o.pos("templateFile"), o.field("templateFile"), "%s", fmt.Errorf("read template file: %w", err))
		return
	}
	f.TemplateFile = abs
	f.Template = string(data)
	if abs == f.Path {
		p.errorAt(o.pos("path"), o.field("path"), "must not be the same file as templateFile")
	}
}

// fileCert decodes the cert/part/password shorthand.
func (p *parser) fileCert(o *object, f *File) {
	if s, ok := o.str("cert"); ok && p.secretRef(o.fields["cert"].val, o.field("cert"), s) {
		f.Cert = s
	}
	if !o.has("cert") {
		for _, k := range []string{"part", "password"} {
			if o.has(k) {
				p.errorf(o.fields[k].key, o.field(k), "only valid with cert")
			}
		}
		return
	}
	if !o.has("part") {
		o.missing("part")
	} else if s, ok := o.str("part"); ok {
		if slices.Contains(certParts, s) {
			f.Part = s
		} else {
			p.errorAt(o.pos("part"), o.field("part"), "unknown part %q (valid: %s)%s", s, strings.Join(certParts, ", "), didYouMean(s, certParts))
		}
	}
	if s, ok := o.str("password"); ok {
		if o.has("part") && f.Part != "pfx" {
			p.errorf(o.fields["password"].key, o.field("password"), "only valid with part: pfx")
		} else if p.secretRef(o.fields["password"].val, o.field("password"), s) {
			f.Password = s
		}
	}
}

// fileMode decodes an octal permission string such as "0600". A YAML
// number is refused: unquoted 0600 reads as octal in YAML 1.1 and decimal
// in YAML 1.2.
func (p *parser) fileMode(o *object, key string, def os.FileMode) os.FileMode {
	e, ok := o.fields[key]
	if !ok {
		return def
	}
	n := deref(e.val)
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		p.errorf(n, o.field(key), "must be a quoted string such as \"0600\"; quote it (%s: \"%s\") because YAML readers disagree on unquoted octal numbers", key, n.Value)
		return def
	}
	s, ok := p.str(n, o.field(key))
	if !ok {
		return def
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	m, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || digits == "" || m > 0o777 {
		p.errorf(n, o.field(key), "%q is not an octal file mode", s)
		return def
	}
	return os.FileMode(m)
}

// account decodes owner or group: a name or a numeric id, kept as text.
func (p *parser) account(o *object, key string) string {
	e, ok := o.fields[key]
	if !ok {
		return ""
	}
	n := deref(e.val)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if id, err := strconv.ParseUint(n.Value, 10, 32); err == nil {
			return strconv.FormatUint(id, 10)
		}
		p.errorf(n, o.field(key), "%s is not a valid numeric id", n.Value)
		return ""
	}
	s, ok := p.str(n, o.field(key))
	if ok && s == "" {
		p.errorf(n, o.field(key), "must not be empty")
	}
	return s
}

// fileOnChange decodes {command: [argv…], timeout} or {signal: NAME}.
func (p *parser) fileOnChange(n *yaml.Node, path string) *OnChange {
	o, ok := p.object(n, path, "command", "timeout", "signal")
	if !ok {
		return nil
	}
	oc := &OnChange{}
	switch {
	case o.has("command") && o.has("signal"):
		p.atMostOne(o, "command", "signal")
	case o.has("command"):
		argv, nodes, good := o.strList("command")
		switch {
		case good && len(argv) == 0:
			p.errorAt(o.pos("command"), o.field("command"), "must not be empty")
		case good && argv[0] == "":
			p.errorf(nodes[0], index(o.field("command"), 0), "program name must not be empty")
		case good:
			oc.Command = argv
		}
		oc.Timeout = o.duration("timeout", DefaultCommandTimeout, 1)
	case o.has("signal"):
		oc.Signal = p.signal(o, "signal")
		if o.has("timeout") {
			p.errorf(o.fields["timeout"].key, o.field("timeout"), "only valid with command")
		}
	default:
		p.errorAt(posOf(o.node), path, "one of command or signal is required")
	}
	return oc
}
