package kvserver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; "" for success
	}{
		{"valid", func(*Config) {}, ""},
		{"no tenant", func(c *Config) { c.Tenant = "" }, "tenant is required"},
		{"no authenticate", func(c *Config) { c.Authenticate = nil }, "authenticate func is required"},
		{"bad vault name", func(c *Config) { c.Vaults[0].Name = "con.toso" }, `validate vault "con.toso"`},
		{"duplicate vault", func(c *Config) { c.Vaults = append(c.Vaults, Vault{Name: "CONTOSO"}) }, `duplicate vault "CONTOSO"`},
		{"bad secret name", func(c *Config) { c.Vaults[0].Secrets["a_b"] = Secret{Versions: []Version{{Value: "x"}}} }, `secret name "a_b"`},
		{"secret name too long", func(c *Config) {
			c.Vaults[0].Secrets[string(make([]byte, 128))] = Secret{Versions: []Version{{Value: "x"}}}
		}, "secret name"},
		{"case duplicate secret", func(c *Config) { c.Vaults[0].Secrets["DB-PASSWORD"] = Secret{Versions: []Version{{Value: "x"}}} }, "defined twice"},
		{"no versions", func(c *Config) { c.Vaults[0].Secrets["empty"] = Secret{} }, `secret "empty" has no versions`},
		{"unknown permission", func(c *Config) { c.Vaults[0].Access[0].Permissions = []string{"delete"} }, `unknown permission "delete"`},
		{"access without identity", func(c *Config) { c.Vaults[0].Access[0].Identity = "" }, "without identity"},
		{"negative limit", func(c *Config) { c.Vaults[0].Limit.Requests = -1 }, "must not be negative"},
		{"fault rate", func(c *Config) { c.Vaults[0].Faults.Rate = 1.5 }, "outside 0..1"},
		{"fault kind", func(c *Config) { c.Vaults[0].Faults.Kinds = []string{"404"} }, `unknown fault kind "404"`},
		{"bad suffix", func(c *Config) { c.Suffixes = []string{".vault.azure.net"} }, "invalid suffix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := baseConfig()
			tt.mod(&cfg)
			_, err := New(cfg)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "hunter", "errors never carry values")
		})
	}
}

func TestVersionIDsAreStable(t *testing.T) {
	t.Parallel()
	a, b := versionID("contoso", "db-password", 0), versionID("Contoso", "DB-Password", 0)
	assert.Equal(t, a, b)
	assert.Equal(t, a, VersionID("contoso", "db-password", 0))
	assert.Regexp(t, `^[0-9a-f]{32}$`, a)
	assert.NotEqual(t, a, versionID("contoso", "db-password", 1))
	assert.NotEqual(t, newVersionID(), newVersionID())
}

func TestConfigIsCopied(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	e := newEnv(t, func(c *Config) { cfg = *c })
	cfg.Vaults[0].Secrets["db-password"].Versions[1].Value = "mutated-after-new"
	e.srv.Reset()
	resp := e.do(t, "GET", contosoURL+"/secrets/db-password"+apiQ, readerToken, "")
	body := decodeBundle(t, resp)
	assert.Equal(t, "hunter2-current", body["value"])
}
