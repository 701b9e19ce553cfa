package manifest

import (
	"strings"

	"github.com/kv-agent/agent/agent/kvname"
)

// vaults decodes the "vaults" mapping.
func (p *parser) vaults(top *object) {
	e, ok := top.section("vaults")
	if !ok {
		return
	}
	es, ok := p.entries(e.val, "vaults")
	if !ok {
		return
	}
	for _, e := range es {
		p.vault(e)
	}
}

// vault decodes one {url, identity} entry. The name is defined even when
// the body has errors, so that references to it do not add more errors.
func (p *parser) vault(e entry) {
	name := e.key.Value
	path := join("vaults", name)
	if !nameRE.MatchString(name) {
		p.errorf(e.key, path, "vault name must start with a letter, digit or \"_\" and contain only letters, digits, \"_\", \".\" and \"-\"")
	}
	v := &Vault{Name: name, Identity: DefaultIdentity, Pos: posOf(e.key)}
	p.m.Vaults[name] = v
	o, ok := p.object(e.val, path, "url", "identity")
	if !ok {
		return
	}
	if raw, ok := o.requiredStr("url"); ok {
		if u, problem := p.vaultURL(raw); problem != "" {
			p.errorAt(o.pos("url"), o.field("url"), "%q %s", raw, problem)
		} else {
			v.URL = u
		}
	}
	if id, ok := o.str("identity"); ok {
		v.Identity = id
		p.identityRef(o.fields["identity"].val, o.field("identity"), id)
	}
}

// vaultURL normalises a vault URL to "https://host" and checks that the
// host is a vault under the cloud's Key Vault suffix.
func (p *parser) vaultURL(raw string) (string, string) {
	host, problem := httpsHost(raw, false)
	if problem != "" {
		return "", problem
	}
	suffix := p.m.Cloud.KeyVaultSuffix
	if suffix == "" { // the cloud itself is invalid and already reported
		return "https://" + host, ""
	}
	label, ok := strings.CutSuffix(host, "."+suffix)
	if !ok || strings.Contains(label, ".") {
		return "", "is not a Key Vault URL for cloud " + p.m.Cloud.Name + " (expected https://NAME." + suffix + ")"
	}
	if !kvname.Vault(label) {
		return "", "does not hold a valid vault name (3-24 letters, digits and single hyphens, starting with a letter)"
	}
	return "https://" + host, ""
}
