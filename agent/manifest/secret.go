package manifest

import (
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kv-agent/agent/agent/kvname"
)

var (
	// secretEntryRE is the shape of the keys of "secrets", used by templates.
	secretEntryRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
)

// secrets decodes the "secrets" mapping. Each entry is either the short
// form "vault/name[/version]" or a mapping.
func (p *parser) secrets(top *object) {
	e, ok := top.section("secrets")
	if !ok {
		return
	}
	es, ok := p.entries(e.val, "secrets")
	if !ok {
		return
	}
	for _, e := range es {
		p.secret(e)
	}
}

// secret decodes one secret reference. The entry is defined even when it
// has errors, so that files naming it do not add more errors.
func (p *parser) secret(e entry) {
	name := e.key.Value
	path := join("secrets", name)
	if !secretEntryRE.MatchString(name) {
		p.errorf(e.key, path, "secret entry name must start with a letter or \"_\" and contain only letters, digits, \"_\", \".\" and \"-\"")
	}
	s := &Secret{Name: name, Pos: posOf(e.key), WarnBefore: DefaultWarnBefore}
	p.m.Secrets[name] = s
	if n := deref(e.val); n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		p.shortSecret(n, path, s)
		return
	}
	if n := deref(e.val); n.Kind != yaml.MappingNode {
		p.errorf(n, path, "must be \"vault/name[/version]\" or a mapping, got %s", describe(n))
		return
	}
	o, ok := p.object(e.val, path, "vault", "name", "version", "identity", "allowExpired", "warnBefore")
	if !ok {
		return
	}
	vaultOK := false
	if v, ok := o.requiredStr("vault"); ok {
		s.Vault = v
		vaultOK = p.vaultRef(o.fields["vault"].val, path, v)
	}
	if n, ok := o.requiredStr("name"); ok {
		if p.checkSecretName(o.fields["name"].val, o.field("name"), n) {
			s.SecretName = n
		}
	}
	if v, ok := o.str("version"); ok {
		if p.checkVersion(o.fields["version"].val, o.field("version"), v) {
			s.Version = v
		}
	}
	s.AllowExpired = o.boolean("allowExpired", false)
	s.WarnBefore = o.duration("warnBefore", DefaultWarnBefore, 0)
	if id, ok := o.str("identity"); ok {
		if p.identityRef(o.fields["identity"].val, o.field("identity"), id) {
			s.Identity = id
		}
	} else if vaultOK {
		s.Identity = p.m.Vaults[s.Vault].Identity
	}
}

// shortSecret decodes "vault/name[/version]". Only the vault part is
// quoted in errors: a secret value pasted here by mistake must not be
// echoed, and the vault part is checked to look like a name first.
func (p *parser) shortSecret(n *yaml.Node, path string, s *Secret) {
	parts := strings.Split(n.Value, "/")
	if len(parts) < 2 || len(parts) > 3 || !nameRE.MatchString(parts[0]) {
		p.errorf(n, path, "must be a reference such as \"vault/name\" or \"vault/name/version\"")
		return
	}
	s.Vault = parts[0]
	if p.vaultRef(n, path, parts[0]) {
		s.Identity = p.m.Vaults[parts[0]].Identity
	}
	if kvname.Secret(parts[1]) {
		s.SecretName = parts[1]
	} else {
		p.errorf(n, path, "the secret name after %q is not a valid Key Vault secret name (1-127 letters, digits and hyphens)", parts[0]+"/")
	}
	if len(parts) == 3 {
		if kvname.Version(parts[2]) {
			s.Version = parts[2]
		} else {
			p.errorf(n, path, "the version is not a Key Vault secret version (32 lower-case hex digits)")
		}
	}
}

// vaultRef checks a reference to a vault at node n.
func (p *parser) vaultRef(n *yaml.Node, field, name string) bool {
	if _, ok := p.m.Vaults[name]; ok {
		return true
	}
	p.errorf(n, field, "vault %q is not defined%s", name, didYouMean(name, keysOf(p.m.Vaults)))
	return false
}

// checkSecretName checks a Key Vault secret name.
func (p *parser) checkSecretName(n *yaml.Node, field, name string) bool {
	if kvname.Secret(name) {
		return true
	}
	p.errorf(n, field, "%q is not a valid Key Vault secret name (1-127 letters, digits and hyphens)", name)
	return false
}

// checkVersion checks a Key Vault secret version.
func (p *parser) checkVersion(n *yaml.Node, field, version string) bool {
	if kvname.Version(version) {
		return true
	}
	p.errorf(n, field, "%q is not a Key Vault secret version (32 lower-case hex digits)", version)
	return false
}

// secretRef checks a reference to a secret entry at node n.
func (p *parser) secretRef(n *yaml.Node, field, name string) bool {
	if _, ok := p.m.Secrets[name]; ok {
		return true
	}
	p.errorf(n, field, "secret %q is not defined%s", name, didYouMean(name, keysOf(p.m.Secrets)))
	return false
}
