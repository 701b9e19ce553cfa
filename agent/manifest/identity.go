package manifest

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	// nameRE is the shape of identity and vault names.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	// guidRE is the 8-4-4-4-12 shape of tenant, client and object IDs.
	guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// envNameRE is the shape of environment variable names.
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// identityKeys lists the keys each identity kind accepts besides "kind".
func identityKeys() map[string][]string {
	return map[string][]string{
		KindAuto:             {"clientId", "imdsProbeTimeout"},
		KindManagedIdentity:  {"clientId", "objectId", "resourceId"},
		KindServicePrincipal: {"tenantId", "clientId", "clientSecretFile", "clientSecretEnv", "certificateFile", "certificatePasswordFile"},
		KindWorkloadIdentity: {"tenantId", "clientId", "tokenFile"},
	}
}

// inlineSecretMsg is the error for a client secret written in the manifest.
const inlineSecretMsg = "a client secret must not be written in the manifest; use clientSecretFile or clientSecretEnv"

// identities decodes the "identities" mapping and adds the implicit
// "default" identity (kind auto) when it is not declared.
func (p *parser) identities(top *object) {
	if e, ok := top.section("identities"); ok {
		if es, ok := p.entries(e.val, "identities"); ok {
			for _, e := range es {
				p.identity(e)
			}
		}
	}
	if _, ok := p.m.Identities[DefaultIdentity]; !ok {
		p.m.Identities[DefaultIdentity] = &Identity{Name: DefaultIdentity, Kind: KindAuto}
	}
}

// identity decodes one identity. The name is defined even when the body has
// errors, so that references to it do not add more errors.
func (p *parser) identity(e entry) {
	name := e.key.Value
	path := join("identities", name)
	if !nameRE.MatchString(name) {
		p.errorf(e.key, path, "identity name must start with a letter, digit or \"_\" and contain only letters, digits, \"_\", \".\" and \"-\"")
	}
	id := &Identity{Name: name, Pos: posOf(e.key)}
	p.m.Identities[name] = id

	perKind := identityKeys()
	all := []string{"kind", "clientSecret"}
	for _, keys := range perKind {
		all = append(all, keys...)
	}
	o, ok := p.object(e.val, path, all...)
	if !ok {
		return
	}
	if o.has("clientSecret") {
		p.errorf(o.fields["clientSecret"].key, o.field("clientSecret"), inlineSecretMsg)
	}
	kind, ok := o.requiredStr("kind")
	if !ok {
		return
	}
	allowed, ok := perKind[kind]
	if !ok {
		kinds := []string{KindAuto, KindManagedIdentity, KindServicePrincipal, KindWorkloadIdentity}
		p.errorAt(o.pos("kind"), o.field("kind"), "unknown kind %q (use %s)%s", kind, strings.Join(kinds, ", "), didYouMean(kind, kinds))
		return
	}
	id.Kind = kind
	keys := make([]string, 0, len(o.fields))
	for k := range o.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "kind" && k != "clientSecret" && !slices.Contains(allowed, k) {
			p.errorf(o.fields[k].key, o.field(k), "not valid for kind %s (it accepts %s)", kind, strings.Join(allowed, ", "))
			delete(o.fields, k)
		}
	}
	id.ClientID = p.guid(o, "clientId")
	id.TenantID = p.guid(o, "tenantId")
	id.ObjectID = p.guid(o, "objectId")
	switch kind {
	case KindAuto:
		id.IMDSProbeTimeout = o.duration("imdsProbeTimeout", 0, 1)
	case KindManagedIdentity:
		p.managedIdentity(o, id)
	case KindServicePrincipal:
		p.servicePrincipal(o, id)
	case KindWorkloadIdentity:
		id.TokenFile = p.pathField(o, "tokenFile")
	}
}

// managedIdentity checks the user-assigned identity selector: at most one
// of clientId, objectId and resourceId (none means system-assigned).
func (p *parser) managedIdentity(o *object, id *Identity) {
	if s, ok := o.str("resourceId"); ok {
		if !strings.HasPrefix(strings.ToLower(s), "/subscriptions/") {
			p.errorAt(o.pos("resourceId"), o.field("resourceId"), "must be an Azure resource ID starting with /subscriptions/")
		} else {
			id.ResourceID = s
		}
	}
	p.atMostOne(o, "clientId", "objectId", "resourceId")
}

// servicePrincipal checks tenantId, clientId and exactly one credential.
func (p *parser) servicePrincipal(o *object, id *Identity) {
	for _, k := range []string{"tenantId", "clientId"} {
		if !o.has(k) {
			o.missing(k)
		}
	}
	id.ClientSecretFile = p.pathField(o, "clientSecretFile")
	id.CertificateFile = p.pathField(o, "certificateFile")
	id.CertificatePasswordFile = p.pathField(o, "certificatePasswordFile")
	if s, ok := o.str("clientSecretEnv"); ok {
		// Not quoted: a secret pasted here by mistake must not be echoed.
		if !envNameRE.MatchString(s) {
			p.errorAt(o.pos("clientSecretEnv"), o.field("clientSecretEnv"), "must be the name of an environment variable (letters, digits and \"_\")")
		} else {
			id.ClientSecretEnv = s
		}
	}
	creds := []string{"clientSecretFile", "clientSecretEnv", "certificateFile"}
	n := 0
	for _, k := range creds {
		if o.has(k) {
			n++
		}
	}
	switch {
	case n == 0 && !o.has("clientSecret"):
		p.errorAt(posOf(o.node), o.path, "a service principal needs one of clientSecretFile, clientSecretEnv or certificateFile")
	case n > 1:
		p.atMostOne(o, creds...)
	}
	if o.has("certificatePasswordFile") && !o.has("certificateFile") {
		p.errorf(o.fields["certificatePasswordFile"].key, o.field("certificatePasswordFile"), "only valid with certificateFile")
	}
}

// atMostOne reports every key after the first when more than one of keys is present.
func (p *parser) atMostOne(o *object, keys ...string) {
	var present []string
	for _, k := range keys {
		if o.has(k) {
			present = append(present, k)
		}
	}
	for _, k := range present[min(1, len(present)):] {
		p.errorf(o.fields[k].key, o.field(k), "%s and %s are mutually exclusive; give only one of %s", present[0], k, strings.Join(keys, ", "))
	}
}

// guid decodes an optional GUID-shaped key. The value is not quoted in
// errors: a secret pasted into the wrong field must not be echoed.
func (p *parser) guid(o *object, key string) string {
	s, ok := o.str(key)
	if !ok {
		return ""
	}
	if !guidRE.MatchString(s) {
		p.errorAt(o.pos(key), o.field(key), "must be a GUID such as 00000000-0000-0000-0000-000000000000")
		return ""
	}
	return s
}

// pathField decodes an optional, non-empty path key, resolved against the
// manifest's directory. The file is not opened: it may appear later (a
// mounted secret). The value is not quoted in errors.
func (p *parser) pathField(o *object, key string) string {
	s, ok := o.str(key)
	if !ok {
		return ""
	}
	if s == "" {
		p.errorAt(o.pos(key), o.field(key), "must not be empty")
		return ""
	}
	return p.abs(s)
}

// identityRef checks a reference to an identity at node n.
func (p *parser) identityRef(n *yaml.Node, field, name string) bool {
	if _, ok := p.m.Identities[name]; ok {
		return true
	}
	p.errorf(n, field, "identity %q is not defined%s", name, didYouMean(name, keysOf(p.m.Identities)))
	return false
}

// keysOf returns the keys of m, sorted.
func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
