package kvserver

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/kv-agent/agent/agent/kvname"
)

// Version is one version of a secret as configured (seeded).
type Version struct {
	Value       string
	ContentType string
	Tags        map[string]string
	// Enabled is nil for "enabled" (the Key Vault default).
	Enabled *bool
	// Expires and NotBefore become the attributes "exp" and "nbf".
	Expires, NotBefore *time.Time
	// Managed and KeyID mark the secret that backs a Key Vault certificate
	// ("managed":true, "kid"); both optional.
	Managed bool
	KeyID   string
}

// Secret is a named secret's history: oldest version first, the last is current.
type Secret struct{ Versions []Version }

// Access grants a caller (by Caller.Name) permissions on a vault's secrets:
// "get", "list" and "set" ("set" also allows updating properties).
type Access struct {
	Identity    string
	Permissions []string
}

// Limit throttles a vault the way Key Vault's service limits do.
type Limit struct {
	// Requests is the number of authenticated requests allowed per 10 s
	// window per vault; 0 means unlimited.
	Requests int
	// RetryAfter, when positive, is sent as Retry-After (whole seconds,
	// rounded up) on 429 answers; 0 sends no Retry-After, like most real
	// Key Vault 429s.
	RetryAfter time.Duration
}

// Faults injects failures into a fraction of authenticated requests.
type Faults struct {
	// Rate is the probability (0..1) that a request is answered with a fault.
	Rate float64
	// Kinds are chosen from uniformly: "500", "503", "429" and "reset"
	// (the TCP connection is closed with RST). Empty means all four.
	Kinds []string
}

// Vault is one Key Vault as configured.
type Vault struct {
	// Name is the first DNS label of the vault host ("contoso" serves
	// contoso.vault.azure.net and the other configured suffixes).
	Name    string
	Secrets map[string]Secret
	// Access lists who may do what; nobody may do anything by default.
	Access []Access
	Limit  Limit
	Faults Faults
}

// Caller is the identity behind a bearer token.
type Caller struct {
	// Name is what Access.Identity refers to.
	Name, ClientID, ObjectID, TenantID string
}

// Config configures a Server. Tenant and Authenticate are required.
type Config struct {
	// Tenant is named in the 401 challenge's authorization URL.
	Tenant string
	Vaults []Vault
	// Suffixes are the DNS suffixes served; default DefaultSuffixes().
	Suffixes []string
	// Authenticate checks a bearer token's signature and lifetime and returns
	// who it belongs to and its audience ("aud" claim). Its error text is
	// shown to the client, with the token itself removed.
	Authenticate func(token string) (Caller, string, error)
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Observe, if set, is called once per answered request with the kind
	// ("challenge" for a request without a token, else "get", "list",
	// "versions", "set", "update", or "error" for requests that name no
	// operation), the vault name (empty when unknown), the caller's Name
	// (empty before authentication) and the HTTP status (0 for a
	// connection reset). It must be safe for concurrent use.
	Observe func(kind, vault, caller string, status int)
	// Logger, if set, receives one debug line per request. It never
	// receives a secret value or a token.
	Logger *slog.Logger
	// Rand drives fault injection; set it (e.g. rand.New(rand.NewPCG(1, 2)))
	// for reproducible faults. Default: seeded from Now.
	Rand *rand.Rand
}

// DefaultSuffixes returns the Key Vault DNS suffixes of the public, China
// and US Government clouds, served when Config.Suffixes is empty.
func DefaultSuffixes() []string {
	return []string{"vault.azure.net", "vault.azure.cn", "vault.usgovcloudapi.net"}
}

var (
	validPermissions = map[string]bool{"get": true, "list": true, "set": true}
	validFaultKinds  = map[string]bool{"500": true, "503": true, "429": true, "reset": true}
)

// validate checks cfg and returns it with defaults filled in.
func (cfg Config) validate() (Config, error) {
	if cfg.Tenant == "" {
		return cfg, fmt.Errorf("validate config: tenant is required")
	}
	if cfg.Authenticate == nil {
		return cfg, fmt.Errorf("validate config: authenticate func is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Suffixes) == 0 {
		cfg.Suffixes = DefaultSuffixes()
	}
	for _, s := range cfg.Suffixes {
		if s == "" || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
			return cfg, fmt.Errorf("validate config: invalid suffix %q", s)
		}
	}
	seen := map[string]bool{}
	for _, v := range cfg.Vaults {
		if err := v.validate(); err != nil {
			return cfg, err
		}
		key := strings.ToLower(v.Name)
		if seen[key] {
			return cfg, fmt.Errorf("validate config: duplicate vault %q", v.Name)
		}
		seen[key] = true
	}
	return cfg, nil
}

func (v Vault) validate() error {
	if !isDNSLabel(v.Name) {
		return fmt.Errorf("validate vault %q: name must be a DNS label of letters, digits and hyphens", v.Name)
	}
	seen := map[string]bool{}
	for name, s := range v.Secrets {
		if !kvname.Secret(name) {
			return fmt.Errorf("validate vault %q: secret name %q must match ^[0-9a-zA-Z-]{1,127}$", v.Name, name)
		}
		key := strings.ToLower(name)
		if seen[key] {
			return fmt.Errorf("validate vault %q: secret %q is defined twice (names are case-insensitive)", v.Name, name)
		}
		seen[key] = true
		if len(s.Versions) == 0 {
			return fmt.Errorf("validate vault %q: secret %q has no versions", v.Name, name)
		}
	}
	for _, a := range v.Access {
		if a.Identity == "" {
			return fmt.Errorf("validate vault %q: access rule without identity", v.Name)
		}
		for _, p := range a.Permissions {
			if !validPermissions[p] {
				return fmt.Errorf("validate vault %q: access for %q: unknown permission %q (want get, list or set)", v.Name, a.Identity, p)
			}
		}
	}
	if v.Limit.Requests < 0 || v.Limit.RetryAfter < 0 {
		return fmt.Errorf("validate vault %q: limit must not be negative", v.Name)
	}
	if v.Faults.Rate < 0 || v.Faults.Rate > 1 {
		return fmt.Errorf("validate vault %q: fault rate %v is outside 0..1", v.Name, v.Faults.Rate)
	}
	for _, k := range v.Faults.Kinds {
		if !validFaultKinds[k] {
			return fmt.Errorf("validate vault %q: unknown fault kind %q (want 500, 503, 429 or reset)", v.Name, k)
		}
	}
	return nil
}

// isDNSLabel reports whether s is a DNS label: 1 to 63 letters, digits and
// hyphens, neither starting nor ending with a hyphen.
func isDNSLabel(s string) bool {
	if len(s) < 1 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
