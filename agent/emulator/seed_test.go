package emulator

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// issueSeed is the seed from the issue, extended with every knob.
const issueSeed = `
tenant: 72f988bf-86f1-41af-91ab-2d7cd011db47
tokenLifetime: 10m
latency: 5ms
imds: {unavailableFor: 30s}
managedIdentities:
  system: {clientId: 11111111-1111-1111-1111-111111111111, objectId: 11111111-1111-1111-1111-0000000000aa}
  userAssigned:
    - {name: billing, clientId: 22222222-2222-2222-2222-222222222222, objectId: 22222222-2222-2222-2222-0000000000bb, resourceId: /subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/billing}
    - {name: reports}
servicePrincipals:
  - {name: ci, clientId: 33333333-3333-3333-3333-333333333333, secret: "hunter2"}
  - {name: deploy, certificate: certs/deploy.pem}
  - name: wl
    federated: {issuer: "https://oidc.example/", subject: "system:serviceaccount:default:app"}
vaults:
  Contoso:
    secrets:
      db-password: "plain value"
      pin: 1234
      api-key:
        versions:
          - {value: old}
          - {value: new, contentType: text/plain, tags: {team: pay}, enabled: true,
             expires: 2030-01-01T00:00:00Z, notBefore: 2020-01-01T00:00:00Z}
      single: {value: one, enabled: false}
    access:
      - {identity: system, permissions: [get, list]}
      - {identity: ci, permissions: [get, list, set]}
    limit: {requests: 100, retryAfter: 2s}
    faults: {rate: 0.1, kinds: [500, 503, 429, reset]}
  empty:
`

func TestLoadSeed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "certs"), "deploy.pem", testCerts(t)[0].certPEM)
	path := writeFile(t, dir, "seed.yaml", []byte(issueSeed))
	s, err := LoadSeed(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Tenant != testTenant || s.TokenLifetime != 10*time.Minute || s.Latency != 5*time.Millisecond || s.IMDS.UnavailableFor != 30*time.Second {
		t.Errorf("top level: %+v", s)
	}
	if s.ManagedIdentities.System == nil || s.ManagedIdentities.System.ClientID != sysClientID {
		t.Errorf("system identity %+v", s.ManagedIdentities.System)
	}
	reports := s.ManagedIdentities.UserAssigned[1]
	if !isGUID(reports.ClientID) || !isGUID(reports.ObjectID) || !strings.HasSuffix(reports.ResourceID, "/reports") {
		t.Errorf("derived IDs for reports: %+v", reports)
	}
	if again, _ := LoadSeed(path); again.ManagedIdentities.UserAssigned[1].ClientID != reports.ClientID {
		t.Error("derived client ID is not stable")
	}
	sps := s.ServicePrincipals
	if len(sps) != 3 || sps[0].Secret != "hunter2" || len(sps[1].Certificates) != 1 || sps[2].Federated.Audience != DefaultFederatedAudience {
		t.Errorf("service principals %+v", sps)
	}
	if len(s.Vaults) != 2 || s.Vaults[0].Name != "contoso" || s.Vaults[1].Name != "empty" {
		t.Fatalf("vaults %+v", s.Vaults)
	}
	v := s.Vaults[0]
	if got := v.Secrets["db-password"].Versions; len(got) != 1 || got[0].Value != "plain value" {
		t.Errorf("shorthand secret %+v", got)
	}
	if got := v.Secrets["pin"].Versions[0].Value; got != "1234" {
		t.Errorf("numeric shorthand %q", got)
	}
	api := v.Secrets["api-key"].Versions
	if len(api) != 2 || api[1].Value != "new" || api[1].ContentType != "text/plain" || api[1].Tags["team"] != "pay" ||
		api[1].Enabled == nil || !*api[1].Enabled || !api[1].Expires.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		api[1].NotBefore == nil {
		t.Errorf("versions %+v", api)
	}
	if single := v.Secrets["single"].Versions; len(single) != 1 || *single[0].Enabled {
		t.Errorf("single-version mapping %+v", single)
	}
	if len(v.Access) != 2 || v.Access[1].Identity != "ci" || len(v.Access[1].Permissions) != 3 {
		t.Errorf("access %+v", v.Access)
	}
	if v.Limit.Requests != 100 || v.Limit.RetryAfter != 2*time.Second || v.Faults.Rate != 0.1 || len(v.Faults.Kinds) != 4 {
		t.Errorf("limit %+v faults %+v", v.Limit, v.Faults)
	}
	if _, err := Start(t.Context(), Options{Seed: s}); err != nil {
		t.Errorf("Start with the parsed seed: %v", err)
	}
}

func TestParseSeedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       []string // every line of the error, in order
	}{
		{"bad yaml", "tenant: [\n", []string{"seed.yaml:1: invalid YAML: did not find expected node content"}},
		{"empty", "", []string{"seed.yaml: the seed is empty (write {} for an empty one)"}},
		{"not a mapping", "- a\n", []string{"seed.yaml:1:1: must be a mapping, not a list"}},
		{"unknown key", "tenant: 72f988bf-86f1-41af-91ab-2d7cd011db47\nvault: {}\n",
			[]string{"seed.yaml:2:1: vault: unknown key (known: tenant, tokenLifetime, latency, imds, managedIdentities, servicePrincipals, vaults)"}},
		{"unknown nested key", "vaults:\n  contoso:\n    secret: {}\n",
			[]string{"seed.yaml:3:5: vaults.contoso.secret: unknown key (known: secrets, certificates, access, limit, faults)"}},
		{"duplicate secret", "vaults:\n  contoso:\n    secrets:\n      a: b\n      a: c\n",
			[]string{"seed.yaml:5:7: vaults.contoso.secrets.a: duplicate key (first at line 4)"}},
		{"duplicate vault, other case", "vaults:\n  contoso: {}\n  CONTOSO: {}\n",
			[]string{`seed.yaml:3:3: vaults.CONTOSO: duplicate vault name (same host as "contoso")`}},
		{"duplicate identity names", "managedIdentities:\n  userAssigned:\n    - {name: ci}\nservicePrincipals:\n  - {name: ci, secret: x}\n",
			[]string{`seed.yaml:5:12: servicePrincipals[0].name: duplicate identity name "ci" (first at line 3)`}},
		{"reserved name", "servicePrincipals:\n  - {name: system, secret: x}\n",
			[]string{`seed.yaml:2:12: servicePrincipals[0].name: the name "system" is reserved for the system-assigned identity`}},
		{"access names no identity", "servicePrincipals:\n  - {name: ci, secret: x}\nvaults:\n  contoso:\n    access:\n      - {identity: nobody, permissions: [get]}\n",
			[]string{`seed.yaml:6:20: vaults.contoso.access[0].identity: no identity named "nobody" (defined: ci)`}},
		{"access names absent system", "vaults:\n  contoso:\n    access:\n      - {identity: system, permissions: [get, delete]}\n",
			[]string{
				"seed.yaml:4:20: vaults.contoso.access[0].identity: names the system-assigned identity, but managedIdentities.system is not defined",
				`seed.yaml:4:47: vaults.contoso.access[0].permissions[1]: unknown permission "delete" (known: get, list, set)`,
			}},
		{"unreadable certificate", "servicePrincipals:\n  - {name: ci, certificate: /nonexistent/ci.pem}\n",
			[]string{"seed.yaml:2:29: servicePrincipals[0].certificate: cannot read certificate: open /nonexistent/ci.pem: no such file or directory"}},
		{"wrong types, all reported", "latency: fast\nimds: {absent: maybe}\nvaults:\n  x: {}\nmanagedIdentities:\n  system: {clientId: 1}\n",
			[]string{
				"seed.yaml:1:10: latency: must be a non-negative duration such as 500ms, 30s or 1h",
				"seed.yaml:2:16: imds.absent: must be true or false",
				`seed.yaml:4:3: vaults.x: "x" is not a valid vault name (3-24 letters, digits and hyphens, starting with a letter)`,
				`seed.yaml:6:22: managedIdentities.system.clientId: "1" is not a GUID`,
			}},
		{"version without value", "vaults:\n  contoso:\n    secrets:\n      k:\n        versions:\n          - {value: old}\n          - {contentType: x}\n",
			[]string{"seed.yaml:7:13: vaults.contoso.secrets.k.versions[1]: value is required"}},
		{"bad fault kind and rate", "vaults:\n  contoso:\n    faults: {rate: 2, kinds: [404]}\n",
			[]string{
				"seed.yaml:3:20: vaults.contoso.faults.rate: must be a number between 0 and 1",
				`seed.yaml:3:31: vaults.contoso.faults.kinds[0]: unknown fault kind "404" (known: 500, 503, 429, reset)`,
			}},
		{"service principal without credential", "servicePrincipals:\n  - {name: ci}\n",
			[]string{"seed.yaml:2:5: servicePrincipals[0]: needs a secret, a certificate or federated (otherwise it can never sign in)"}},
		{"federated without subject", "servicePrincipals:\n  - {name: wl, federated: {issuer: https://x/}}\n",
			[]string{"seed.yaml:2:27: servicePrincipals[0].federated: issuer and subject are required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSeed("seed.yaml", []byte(tc.yaml))
			var se *SeedError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a *SeedError", err)
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", err, strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestSeedErrorsNeverQuoteSecretValues(t *testing.T) {
	t.Parallel()
	y := "servicePrincipals:\n  - {name: ci, secret: {nested: hunter2}}\nvaults:\n  contoso:\n    secrets:\n      k: [hunter2]\n      j: {value: [hunter2]}\n"
	_, err := ParseSeed("seed.yaml", []byte(y))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v: want one that does not contain the value", err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("want 3 problems, got %d:\n%v", n, err)
	}
}

func TestStartValidatesGoSeeds(t *testing.T) {
	t.Parallel()
	bad := testSeed(t)
	bad.Vaults[0].Access = append(bad.Vaults[0].Access, bad.Vaults[0].Access[0])
	bad.Vaults[0].Access[len(bad.Vaults[0].Access)-1].Identity = "ghost"
	bad.ServicePrincipals = append(bad.ServicePrincipals, ServicePrincipal{Name: "ci", Secret: "x"})
	_, err := Start(t.Context(), Options{Seed: bad})
	if err == nil || !strings.Contains(err.Error(), `no identity named "ghost"`) || !strings.Contains(err.Error(), `duplicate identity name "ci"`) {
		t.Fatalf("Start: %v", err)
	}
}
