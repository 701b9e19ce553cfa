package agent

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/render"
	"github.com/kv-agent/agent/templates"
)

// plan is a manifest with every template parsed and every name a template
// uses checked against the manifest's secrets.
type plan struct {
	m     *manifest.Manifest
	certs *certChecker
	files []*fileOutput
	env   []*envOutput
}

type fileOutput struct {
	spec     *manifest.File
	tmpl     *templates.Template // nil for a cert shorthand
	uid, gid int                 // -1: the agent's own
}

type envOutput struct {
	spec *manifest.EnvVar
	tmpl *templates.Template
}

// loadPlan loads the manifest at path and parses its templates. Problems
// come back together as one *ExitError: 66 when the manifest cannot be
// read, 65 when anything in it is invalid.
func loadPlan(path string) (*plan, error) {
	return loadPlanNoting(path, nil)
}

// loadPlanNoting is loadPlan that also calls templateFile with each
// template file the manifest names, read or not.
func loadPlanNoting(path string, templateFile func(string)) (*plan, error) {
	m, err := manifest.Load(path, manifest.LoadOptions{Formats: templates.Formats(), TemplateFile: templateFile})
	if err != nil {
		var errs manifest.Errors
		if errors.As(err, &errs) {
			return nil, &ExitError{Code: ExitDataErr, Err: err}
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, &ExitError{Code: ExitNoInput, Err: err}
		}
		return nil, &ExitError{Code: ExitDataErr, Err: err}
	}
	return newPlan(m)
}

func newPlan(m *manifest.Manifest) (*plan, error) {
	p := &plan{m: m, certs: &certChecker{m: m, now: time.Now}}
	var errs manifest.Errors
	for i, f := range m.Files {
		field := fmt.Sprintf("files[%d]", i)
		out := &fileOutput{spec: f}
		uid, gid, err := render.LookupOwner(f.Owner, f.Group)
		if err != nil {
			key := ".owner"
			if f.Owner == "" {
				key = ".group"
			}
			errs = append(errs, m.Errorf(f.Pos, field+key, "%v", err))
		}
		out.uid, out.gid = uid, gid
		switch {
		case f.Format != "":
			t, err := templates.Format(f.Format, f.FormatSecrets)
			if err != nil {
				errs = append(errs, m.Errorf(f.TemplatePos, field+".format", "%v", err))
				continue
			}
			out.tmpl = t
		case f.Cert != "":
			// The shorthand needs no template; the manifest checked its names.
		default:
			name := field + ".template"
			if f.TemplateFile != "" {
				name = f.TemplateFile
				field += ".templateFile"
			} else {
				field += ".template"
			}
			t, err := p.parseTemplate(name, f.Template)
			if err != nil {
				errs = append(errs, m.Errorf(f.TemplatePos, field, "%v", err))
				continue
			}
			errs = append(errs, undefinedNames(m, t, f.TemplatePos, field)...)
			out.tmpl = t
		}
		p.files = append(p.files, out)
	}
	for _, e := range m.Env {
		field := "env." + e.Name
		t, err := p.parseTemplate(field, e.Template)
		if err != nil {
			errs = append(errs, m.Errorf(e.Pos, field, "%v", err))
			continue
		}
		errs = append(errs, undefinedNames(m, t, e.Pos, field)...)
		p.env = append(p.env, &envOutput{spec: e, tmpl: t})
	}
	if len(errs) > 0 {
		return nil, &ExitError{Code: ExitDataErr, Err: errs}
	}
	return p, nil
}

// undefinedNames reports each secret name t uses that the manifest does
// not define.
func undefinedNames(m *manifest.Manifest, t *templates.Template, pos manifest.Pos, field string) manifest.Errors {
	var errs manifest.Errors
	names := make([]string, 0, len(m.Secrets))
	for n := range m.Secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range t.Secrets() {
		if _, ok := m.Secrets[n]; ok {
			continue
		}
		msg := fmt.Sprintf("secret %q is not defined", n)
		if s := manifest.Suggest(n, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		errs = append(errs, m.Errorf(pos, field, "%s", msg))
	}
	return errs
}

// parseTemplate parses a template with the agent's full function set.
func (p *plan) parseTemplate(name, text string) (*templates.Template, error) {
	return templates.ParseWith(name, text, p.certs.funcs())
}
