package emulator

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kv-agent/agent/agent/emulator/kvserver"
)

// DefaultTenant is the tenant ID used when a seed names none.
const DefaultTenant = "0b5c5f46-2f6a-4d8e-9c1e-6f0d3a7b8e21"

// DefaultFederatedAudience is the audience a federated (workload identity)
// token must carry unless the seed says otherwise.
const DefaultFederatedAudience = "api://AzureADTokenExchange"

// SystemIdentity is the name access rules use for the system-assigned
// managed identity.
const SystemIdentity = "system"

// Seed is the emulator's starting state: the tenant, identities, service
// principals and vaults. Build one in Go, or read one with LoadSeed or
// ParseSeed. Empty IDs are filled in deterministically from names at Start.
type Seed struct {
	Tenant string // a GUID; DefaultTenant when empty
	// TokenLifetime is the lifetime of every access token issued. Zero
	// means Azure's usual values: 1h for Entra ID (service principals,
	// workload identity) and 24h for managed identities.
	TokenLifetime     time.Duration
	Latency           time.Duration // added to every request; Options.Latency overrides it
	IMDS              IMDSBehaviour
	ManagedIdentities ManagedIdentities
	ServicePrincipals []ServicePrincipal
	Vaults            []kvserver.Vault
}

// IMDSBehaviour shapes the IMDS endpoint for testing fallbacks.
type IMDSBehaviour struct {
	UnavailableFor time.Duration // answer 410 for this long after Start and Reset
	Absent         bool          // reset every IMDS connection, as if nothing listened
}

// ManagedIdentities are the identities assigned to "this machine".
type ManagedIdentities struct {
	System       *ManagedIdentity // nil: no system-assigned identity
	UserAssigned []ManagedIdentity
}

// ManagedIdentity is a system- or user-assigned managed identity.
type ManagedIdentity struct {
	Name       string // access rules refer to it; "system" for the system-assigned one
	ClientID   string
	ObjectID   string
	ResourceID string // ARM ID; user-assigned only
}

// ServicePrincipal is an app registration that may authenticate with a
// client secret, a certificate assertion or a federated token.
type ServicePrincipal struct {
	Name         string
	ClientID     string
	ObjectID     string
	Secret       string              // empty: no client secret registered
	Certificates []*x509.Certificate // registered public certificates
	Federated    *Federation         // workload identity federation; nil: none
}

// Federation is a federated identity credential of a service principal.
type Federation struct {
	Issuer   string
	Subject  string
	Audience string           // DefaultFederatedAudience when empty
	Key      crypto.PublicKey // verifies the token; nil: the emulator's own issuer key
}

// LoadSeed reads and parses a seed file. Errors name the file as given.
func LoadSeed(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read seed: %w", err)
	}
	return parseSeed(path, filepath.Dir(path), data)
}

// ParseSeed parses seed YAML. name is used in error messages; relative
// certificate and key paths resolve against the current directory. All
// problems are reported in one *SeedError, each as "name:line:col: field:
// what is wrong".
func ParseSeed(name string, data []byte) (*Seed, error) {
	return parseSeed(name, ".", data)
}

func parseSeed(name, dir string, data []byte) (*Seed, error) {
	d := &decoder{file: name, dir: dir}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		d.syntax(err)
		return nil, d.err()
	}
	if len(doc.Content) == 0 {
		d.errorf(nil, "", "the seed is empty (write {} for an empty one)")
		return nil, d.err()
	}
	s := d.seed(doc.Content[0])
	d.crossCheck(s)
	if err := d.err(); err != nil {
		return nil, err
	}
	return s, nil
}

func (d *decoder) seed(root *yaml.Node) *Seed {
	s := &Seed{Tenant: DefaultTenant}
	known := []string{"tenant", "tokenLifetime", "latency", "imds", "managedIdentities", "servicePrincipals", "vaults"}
	d.mapping(root, "", known, func(key, path string, _, v *yaml.Node) {
		switch key {
		case "tenant":
			if t, ok := d.name(v, path, isGUID, "a tenant ID (a GUID)"); ok {
				s.Tenant = strings.ToLower(t)
			}
		case "tokenLifetime":
			s.TokenLifetime, _ = d.duration(v, path)
			if s.TokenLifetime > 0 && s.TokenLifetime < time.Minute {
				d.errorf(v, path, "must be at least 1m")
			}
		case "latency":
			s.Latency, _ = d.duration(v, path)
		case "imds":
			d.mapping(v, path, []string{"unavailableFor", "absent"}, func(key, path string, _, v *yaml.Node) {
				if key == "absent" {
					s.IMDS.Absent, _ = d.boolean(v, path)
				} else {
					s.IMDS.UnavailableFor, _ = d.duration(v, path)
				}
			})
		case "managedIdentities":
			if !isNull(v) {
				s.ManagedIdentities = d.managedIdentities(v, path)
			}
		case "servicePrincipals":
			d.sequence(v, path, func(_ int, path string, item *yaml.Node) {
				if sp, ok := d.servicePrincipal(item, path); ok {
					s.ServicePrincipals = append(s.ServicePrincipals, sp)
				}
			})
		case "vaults":
			if !isNull(v) {
				s.Vaults = d.vaults(v, path)
			}
		}
	})
	return s
}

func (d *decoder) managedIdentities(n *yaml.Node, field string) ManagedIdentities {
	var m ManagedIdentities
	d.mapping(n, field, []string{"system", "userAssigned"}, func(key, path string, _, v *yaml.Node) {
		if key == "system" {
			if isNull(v) {
				return
			}
			id := ManagedIdentity{Name: SystemIdentity}
			d.mapping(v, path, []string{"clientId", "objectId"}, func(key, path string, _, v *yaml.Node) {
				d.guidField(v, path, key, &id)
			})
			m.System = &id
			d.identities = append(d.identities, nodeRef{name: SystemIdentity, node: v, path: path, clientID: id.ClientID})
			return
		}
		d.sequence(v, path, func(_ int, path string, item *yaml.Node) {
			var id ManagedIdentity
			nameNode := item
			ok := d.mapping(item, path, []string{"name", "clientId", "objectId", "resourceId"}, func(key, path string, _, v *yaml.Node) {
				switch key {
				case "name":
					id.Name, _ = d.name(v, path, isIdentityName, "a valid identity name (letters, digits, '.', '_', '-')")
					nameNode = v
				case "resourceId":
					id.ResourceID, _ = d.str(v, path)
					if id.ResourceID != "" && !strings.HasPrefix(strings.ToLower(id.ResourceID), "/subscriptions/") {
						d.errorf(v, path, "must be an ARM resource ID starting with /subscriptions/")
					}
				default:
					d.guidField(v, path, key, &id)
				}
			})
			if !ok {
				return
			}
			if id.Name == "" {
				d.errorf(item, path, "name is required")
				return
			}
			d.identities = append(d.identities, nodeRef{name: id.Name, node: nameNode, path: path + ".name", clientID: id.ClientID})
			m.UserAssigned = append(m.UserAssigned, id)
		})
	})
	return m
}

func (d *decoder) guidField(v *yaml.Node, path, key string, id *ManagedIdentity) {
	g, ok := d.name(v, path, isGUID, "a GUID")
	if !ok {
		return
	}
	if key == "clientId" {
		id.ClientID = strings.ToLower(g)
	} else {
		id.ObjectID = strings.ToLower(g)
	}
}

func (d *decoder) servicePrincipal(n *yaml.Node, field string) (ServicePrincipal, bool) {
	var sp ServicePrincipal
	nameNode, hasSecret, hasCert := n, false, false
	known := []string{"name", "clientId", "objectId", "secret", "certificate", "federated"}
	ok := d.mapping(n, field, known, func(key, path string, _, v *yaml.Node) {
		switch key {
		case "name":
			sp.Name, _ = d.name(v, path, isIdentityName, "a valid identity name (letters, digits, '.', '_', '-')")
			nameNode = v
		case "clientId", "objectId":
			if g, ok := d.name(v, path, isGUID, "a GUID"); ok {
				if key == "clientId" {
					sp.ClientID = strings.ToLower(g)
				} else {
					sp.ObjectID = strings.ToLower(g)
				}
			}
		case "secret":
			hasSecret = true
			if sp.Secret, _ = d.str(v, path); sp.Secret == "" && !isNull(v) && v.Kind == yaml.ScalarNode {
				d.errorf(v, path, "must not be empty")
			}
		case "certificate":
			hasCert = true
			if p, ok := d.str(v, path); ok {
				certs, err := readCertificates(d.path(p))
				if err != nil {
					d.errorf(v, path, "%v", err)
				}
				sp.Certificates = certs
			}
		case "federated":
			sp.Federated = d.federation(v, path)
		}
	})
	if !ok {
		return sp, false
	}
	if sp.Name == "" {
		d.errorf(n, field, "name is required")
		return sp, false
	}
	d.identities = append(d.identities, nodeRef{name: sp.Name, node: nameNode, path: field + ".name", clientID: sp.ClientID})
	if !hasSecret && !hasCert && sp.Federated == nil {
		d.errorf(n, field, "needs a secret, a certificate or federated (otherwise it can never sign in)")
	}
	return sp, true
}

func (d *decoder) federation(n *yaml.Node, field string) *Federation {
	f := &Federation{Audience: DefaultFederatedAudience}
	d.mapping(n, field, []string{"issuer", "subject", "audience", "key"}, func(key, path string, _, v *yaml.Node) {
		s, ok := d.str(v, path)
		if !ok {
			return
		}
		switch key {
		case "issuer":
			if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
				d.errorf(v, path, "must be a URL")
			}
			f.Issuer = s
		case "subject":
			f.Subject = s
		case "audience":
			f.Audience = s
		case "key":
			key, err := readPublicKey(d.path(s))
			if err != nil {
				d.errorf(v, path, "%v", err)
			}
			f.Key = key
		}
	})
	if f.Issuer == "" || f.Subject == "" {
		d.errorf(n, field, "issuer and subject are required")
	}
	return f
}

// path resolves a path from the seed relative to the seed's directory.
func (d *decoder) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.dir, p)
}

func readCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read certificate: %w", err)
	}
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("cannot parse certificate in %s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no PEM CERTIFICATE block in %s", path)
	}
	return certs, nil
}

func readPublicKey(path string) (crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read key: %w", err)
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("no PEM PUBLIC KEY or CERTIFICATE block in %s", path)
		}
		switch b.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("cannot parse public key in %s: %w", path, err)
			}
			return k, nil
		case "RSA PUBLIC KEY":
			k, err := x509.ParsePKCS1PublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("cannot parse public key in %s: %w", path, err)
			}
			return k, nil
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("cannot parse certificate in %s: %w", path, err)
			}
			return c.PublicKey, nil
		}
	}
}

// derivedGUID returns a stable GUID-shaped ID for a name.
func derivedGUID(kind, name string) string {
	h := sha256.Sum256([]byte("agent-emulator/" + kind + "/" + name))
	h[6] = (h[6] & 0x0f) | 0x50 // version 5 style
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
