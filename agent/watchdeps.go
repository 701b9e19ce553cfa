package agent

import (
	"log/slog"

	"github.com/kv-agent/agent/templates"
)

// depSet is the set of secrets one output uses.
type depSet struct {
	all   bool            // every secret: a format over all, or names computed at run time
	names map[string]bool // otherwise, these
}

// uses reports whether the output uses any of changed.
func (d depSet) uses(changed map[string]bool) bool {
	if d.all {
		return true
	}
	for n := range changed {
		if d.names[n] {
			return true
		}
	}
	return false
}

// outputDeps says which secrets each output of a plan uses, so that a
// check re-renders only the outputs a changed secret feeds.
type outputDeps struct {
	files []depSet // parallel to plan.files
	env   []depSet // parallel to plan.env
}

// computeDeps finds what each output of p uses. Templates list the
// constant names they use; a template that also computes names at run
// time (secret $name) cannot be read that way, so each is executed once
// with only its listed secrets: if that fails where the full set worked,
// the output depends on every secret.
func computeDeps(p *plan, secrets map[string]templates.Secret, log *slog.Logger) *outputDeps {
	saved := p.certs.log
	p.certs.log = nil // the trial renders must not repeat certificate warnings
	defer func() { p.certs.log = saved }()
	d := &outputDeps{}
	for _, f := range p.files {
		var ds depSet
		switch {
		case f.tmpl == nil:
			ds = namesSet(f.spec.Cert, f.spec.Password)
		default:
			ds = templateDeps(f.tmpl, secrets)
		}
		if ds.all {
			log.Debug("output depends on every secret", "path", f.spec.Path)
		}
		d.files = append(d.files, ds)
	}
	for _, e := range p.env {
		d.env = append(d.env, templateDeps(e.tmpl, secrets))
	}
	return d
}

func templateDeps(t *templates.Template, secrets map[string]templates.Secret) depSet {
	if t.UsesAll() {
		return depSet{all: true}
	}
	names := t.Secrets()
	ds := namesSet(names...)
	if _, err := t.Execute(secrets); err != nil {
		return ds // it fails with every secret; nothing to learn
	}
	subset := make(map[string]templates.Secret, len(names))
	for _, n := range names {
		if s, ok := secrets[n]; ok {
			subset[n] = s
		}
	}
	if _, err := t.Execute(subset); err != nil {
		ds.all = true
	}
	return ds
}

func namesSet(names ...string) depSet {
	ds := depSet{names: map[string]bool{}}
	for _, n := range names {
		if n != "" {
			ds.names[n] = true
		}
	}
	return ds
}
