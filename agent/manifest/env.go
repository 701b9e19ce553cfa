package manifest

// env decodes the "env" mapping of NAME → template, keeping its order.
func (p *parser) env(top *object) {
	e, ok := top.section("env")
	if !ok {
		return
	}
	es, ok := p.entries(e.val, "env")
	if !ok {
		return
	}
	for _, e := range es {
		name := e.key.Value
		path := join("env", name)
		if !envNameRE.MatchString(name) {
			p.errorf(e.key, path, "environment variable name must start with a letter or \"_\" and contain only letters, digits and \"_\"")
			continue
		}
		// A number or boolean is taken as written: PORT: 8080 means "8080".
		tmpl, ok := p.scalarText(e.val, path)
		if !ok {
			continue
		}
		p.m.Env = append(p.m.Env, &EnvVar{Name: name, Template: tmpl, Pos: posOf(deref(e.val))})
	}
}
