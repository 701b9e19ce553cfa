package agent_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/emulator"
	"github.com/kv-agent/agent/agent/emulator/kvserver"
)

// Values seeded in the vaults. None may ever appear in the agent's output.
var seededValues = []string{
	"s3cr3t-db-VALUE-8a1f", "api-key-OLD-value-31c", "api-key-NEW-value-77d", "sk_live_STRIPE_VALUE_9e2",
	"disabled-VALUE-5b5", "expired-VALUE-4c4", spSecret,
}

// seedText returns the tests' seed: top is added at the top level,
// contoso under the contoso vault (limit:, faults:).
func seedText(top, contoso string) string {
	s := strings.Replace(baseSeed, "#TOP\n", top, 1)
	return strings.Replace(s, "    #CONTOSO\n", contoso, 1)
}

const baseSeed = `#TOP
tenant: ` + tenantID + `
managedIdentities:
  system: {clientId: ` + systemClient + `, objectId: ` + systemObject + `}
  userAssigned:
    - {name: billing, clientId: ` + billClient + `, objectId: ` + billObject + `, resourceId: "` + billResource + `"}
servicePrincipals:
  - {name: ci, clientId: ` + spClient + `, secret: "` + spSecret + `", certificate: "{{dir}}/sp-cert.pem"}
  - name: wi
    clientId: ` + wiClient + `
    federated: {issuer: "https://oidc.prod-aks.azure.com/tenant/", subject: "system:serviceaccount:default:app"}
vaults:
  contoso:
    secrets:
      db-password: "s3cr3t-db-VALUE-8a1f"
      api-key:
        versions:
          - {value: api-key-OLD-value-31c}
          - {value: api-key-NEW-value-77d, contentType: text/plain, tags: {team: pay}}
      off: {versions: [{value: disabled-VALUE-5b5, enabled: false}]}
      old: {versions: [{value: expired-VALUE-4c4, expires: 2020-01-01T00:00:00Z}]}
    access:
      - {identity: system, permissions: [get, list]}
      - {identity: ci, permissions: [get, list]}
      - {identity: wi, permissions: [get]}
    #CONTOSO
  billing:
    secrets:
      stripe-key: "sk_live_STRIPE_VALUE_9e2"
    access:
      - {identity: billing, permissions: [get]}
`

// scenario is one end-to-end run of agent render against the emulator.
type scenario struct {
	name     string
	seedTop  string // extra top-level seed keys
	contoso  string // extra keys of the contoso vault, indented by 4
	manifest string // {{dir}} is the test's directory
	env      func(t *testing.T, s *setup) []string
	code     int
	files    map[string]string // relative path → exact content
	stderr   []string          // substrings stderr must contain
	kinds    map[string]int    // emulator request kinds that must have been seen (>= n; 0 means none)
}

type setup struct {
	dir string
	e   interface {
		AppServiceEnv() []string
		FederatedToken(string) (string, error)
	}
}

const contosoManifest = `
version: 1
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  db: main/db-password
  api: {vault: main, name: api-key}
files:
  - path: out/db.txt
    template: 'db={{ secret "db" }}'
  - path: out/api.txt
    template: '{{ secret "api" }} {{ (secretMeta "api").Tags.team }}'
`

func TestRenderEndToEnd(t *testing.T) {
	t.Parallel()
	okFiles := map[string]string{"out/db.txt": "db=s3cr3t-db-VALUE-8a1f", "out/api.txt": "api-key-NEW-value-77d pay"}
	scenarios := []scenario{
		{name: "IMDS system-assigned", manifest: contosoManifest, files: okFiles,
			stderr: []string{"written", "out/db.txt", "(23 bytes)"}, kinds: map[string]int{"imds": 1, "challenge": 1, "get": 2}},
		{name: "user-assigned by clientId", manifest: billingManifest("clientId: " + billClient),
			files: map[string]string{"out/stripe.txt": "sk_live_STRIPE_VALUE_9e2"}, kinds: map[string]int{"imds": 1}},
		{name: "user-assigned by objectId", manifest: billingManifest("objectId: " + billObject),
			files: map[string]string{"out/stripe.txt": "sk_live_STRIPE_VALUE_9e2"}},
		{name: "user-assigned by resourceId", manifest: billingManifest(`resourceId: "` + billResource + `"`),
			files: map[string]string{"out/stripe.txt": "sk_live_STRIPE_VALUE_9e2"}},
		{name: "App Service", manifest: contosoManifest, files: okFiles,
			env:   func(t *testing.T, s *setup) []string { return s.e.AppServiceEnv() },
			kinds: map[string]int{"appservice": 1, "imds": 0}},
		{name: "IMDS absent, service principal secret from env", seedTop: "imds: {absent: true}\n", manifest: contosoManifest, files: okFiles,
			env: func(t *testing.T, s *setup) []string {
				return []string{"AZURE_TENANT_ID=" + tenantID, "AZURE_CLIENT_ID=" + spClient, "AZURE_CLIENT_SECRET=" + spSecret}
			},
			kinds: map[string]int{"entra-token": 1}},
		{name: "IMDS absent, service principal certificate from env", seedTop: "imds: {absent: true}\n", manifest: contosoManifest, files: okFiles,
			env: func(t *testing.T, s *setup) []string {
				return []string{"AZURE_TENANT_ID=" + tenantID, "AZURE_CLIENT_ID=" + spClient, "AZURE_CLIENT_CERTIFICATE_PATH=" + filepath.Join(s.dir, "sp-key.pem")}
			},
			kinds: map[string]int{"entra-token": 1}},
		{name: "service principal identity with secret file", manifest: spManifest("clientSecretFile: {{dir}}/sp-secret"), files: okFiles,
			kinds: map[string]int{"entra-token": 1, "imds": 0}},
		{name: "service principal identity with certificate file", manifest: spManifest("certificateFile: {{dir}}/sp-key.pem"), files: okFiles,
			kinds: map[string]int{"entra-token": 1, "imds": 0}},
		{name: "service principal with a wrong secret", manifest: spManifest("clientSecretEnv: SP_SECRET"), code: 77,
			env:    func(t *testing.T, s *setup) []string { return []string{"SP_SECRET=not-the-secret"} },
			stderr: []string{`identity "default"`, "AADSTS7000215"}},
		{name: "workload identity", manifest: contosoManifest, files: okFiles,
			env: func(t *testing.T, s *setup) []string {
				tok, err := s.e.FederatedToken("wi")
				if err != nil {
					t.Fatal(err)
				}
				return []string{"AZURE_TENANT_ID=" + tenantID, "AZURE_CLIENT_ID=" + wiClient,
					"AZURE_FEDERATED_TOKEN_FILE=" + writeFile(t, s.dir, "wi-token", tok)}
			},
			kinds: map[string]int{"entra-token": 1, "imds": 0}},
		{name: "two identities for two vaults", manifest: twoVaultManifest,
			files: map[string]string{"out/both.txt": "s3cr3t-db-VALUE-8a1f/sk_live_STRIPE_VALUE_9e2"},
			kinds: map[string]int{"imds": 2, "challenge": 2}},
		{name: "unassigned user-assigned identity", manifest: billingManifest("clientId: " + systemClient), code: 77,
			stderr: []string{`identity "pay"`, "isn't assigned"}},
		{name: "wrong identity is refused", manifest: billingManifest(""), code: 77,
			stderr: []string{"access denied", `identity "pay"`, "billing.vault.azure.net", "403 ForbiddenByRbac", "agent: hint: grant identity"}},
		{name: "secret not found", manifest: oneSecretManifest("main/nope"), code: 66,
			stderr: []string{"agent.yaml:6:", "secrets.s", "contoso.vault.azure.net/secrets/nope: not found"}},
		{name: "secret disabled", manifest: oneSecretManifest("main/off"), code: 66, stderr: []string{"secrets/off: disabled"}},
		{name: "secret expired", manifest: oneSecretManifest("main/old"), code: 66, stderr: []string{"secrets/old: expired", "allowExpired"}},
		{name: "expired secret allowed", manifest: oneSecretManifest("{vault: main, name: old, allowExpired: true}"),
			files: map[string]string{"out/s.txt": "expired-VALUE-4c4"}},
		{name: "pinned old version", manifest: oneSecretManifest("main/api-key/" + kvserver.VersionID("contoso", "api-key", 0)),
			files: map[string]string{"out/s.txt": "api-key-OLD-value-31c"}},
		{name: "throttled then fine", contoso: "    limit: {requests: 4, retryAfter: 2s}\n", manifest: manySecretsManifest(8),
			files: map[string]string{"out/all.txt": strings.Repeat("s3cr3t-db-VALUE-8a1f\n", 8)}, kinds: map[string]int{"get": 8}},
		{name: "throttled without Retry-After then fine", contoso: "    limit: {requests: 4}\n", manifest: manySecretsManifest(6),
			files: map[string]string{"out/all.txt": strings.Repeat("s3cr3t-db-VALUE-8a1f\n", 6)}},
		{name: "faults then fine", contoso: "    faults: {rate: 0.25, kinds: [500, 503, reset]}\n", manifest: manySecretsManifest(8),
			files: map[string]string{"out/all.txt": strings.Repeat("s3cr3t-db-VALUE-8a1f\n", 8)}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, sc)
		})
	}
}

func billingManifest(selector string) string {
	return `
version: 1
identities:
  pay: {kind: managedIdentity` + prefixComma(selector) + `}
vaults:
  billing: {url: https://billing.vault.azure.net, identity: pay}
secrets:
  stripe: billing/stripe-key
files:
  - path: out/stripe.txt
    template: '{{ secret "stripe" }}'
`
}

func prefixComma(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

func spManifest(credential string) string {
	return `
version: 1
identities:
  default:
    kind: servicePrincipal
    tenantId: ` + tenantID + `
    clientId: ` + spClient + `
    ` + credential + `
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  db: main/db-password
  api: {vault: main, name: api-key}
files:
  - path: out/db.txt
    template: 'db={{ secret "db" }}'
  - path: out/api.txt
    template: '{{ secret "api" }} {{ (secretMeta "api").Tags.team }}'
`
}

const twoVaultManifest = `
version: 1
identities:
  pay: {kind: managedIdentity, clientId: ` + billClient + `}
vaults:
  main: {url: https://contoso.vault.azure.net}
  billing: {url: https://billing.vault.azure.net, identity: pay}
secrets:
  db: main/db-password
  stripe: billing/stripe-key
files:
  - path: out/both.txt
    template: '{{ secret "db" }}/{{ secret "stripe" }}'
`

func oneSecretManifest(ref string) string {
	return `
version: 1
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  s: ` + ref + `
files:
  - path: out/s.txt
    template: '{{ secret "s" }}'
`
}

// manySecretsManifest references db-password n times under different
// pinned-looking names: n distinct manifest secrets, one Key Vault secret
// each in turn (the vault holds only a few, so names repeat with versions).
func manySecretsManifest(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\nvaults:\n  main: {url: https://contoso.vault.azure.net}\nsecrets:\n")
	for i := 0; i < n; i++ {
		b.WriteString("  s" + strconv.Itoa(i) + ": main/db" + strconv.Itoa(i) + "\n")
	}
	b.WriteString("files:\n  - path: out/all.txt\n    template: |\n")
	for i := 0; i < n; i++ {
		b.WriteString("      {{ secret \"s" + strconv.Itoa(i) + "\" }}\n")
	}
	return b.String()
}

// manySecretsSeed adds secrets db0..db(n-1), all holding the db value.
func manySecretsSeed(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("      db" + strconv.Itoa(i) + ": \"s3cr3t-db-VALUE-8a1f\"\n")
	}
	return b.String()
}

func runScenario(t *testing.T, sc scenario) {
	dir := t.TempDir()
	writeSPFiles(t, dir)
	seed := seedText(sc.seedTop, sc.contoso)
	seed = strings.Replace(seed, "      db-password:", manySecretsSeed(10)+"      db-password:", 1)
	e := startEmulator(t, seed, dir)
	manifestPath := writeFile(t, dir, "agent.yaml", strings.ReplaceAll(sc.manifest, "{{dir}}", dir))
	var env []string
	if sc.env != nil {
		env = sc.env(t, &setup{dir: dir, e: e})
	}
	env = append(env, "AGENT_LOG_LEVEL=debug")
	r := runAgent(t, e, env, "render", "-m", manifestPath)
	expectCode(t, r, sc.code)
	for _, want := range sc.stderr {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for rel, want := range sc.files {
		if got := readFile(t, filepath.Join(dir, rel)); got != want {
			t.Errorf("%s = %q, want %q", rel, got, want)
		}
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", rel, fi.Mode().Perm())
		}
	}
	if sc.code != 0 {
		if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
			t.Errorf("a failed render left %s/out behind", dir)
		}
	}
	stats := e.Stats()
	for kind, n := range sc.kinds {
		got := stats.Kinds[kind]
		if (n == 0 && got != 0) || got < n {
			t.Errorf("emulator saw %d %q requests, want %d", got, kind, n)
		}
	}
	assertNoLeak(t, r.stdout+r.stderr)
}

// assertNoLeak fails if out contains any seeded secret value.
func assertNoLeak(t *testing.T, out string) {
	t.Helper()
	for _, v := range seededValues {
		if strings.Contains(out, v) {
			t.Errorf("output contains the secret value %q:\n%s", v, out)
		}
	}
}

// startContoso starts the tests' usual emulator (seedText with top added
// at the top level) in a new directory holding the service principal's
// files, and returns both.
func startContoso(t *testing.T, top string) (string, *emulator.Emulator) {
	t.Helper()
	dir := t.TempDir()
	writeSPFiles(t, dir)
	return dir, startEmulator(t, seedText(top, ""), dir)
}

// writeSPFiles writes the service principal's certificate (public, for the
// seed), its certificate and key (for the agent) and its secret.
func writeSPFiles(t *testing.T, dir string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "agent-ci"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	pk, _ := x509.MarshalPKCS8PrivateKey(key)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	writeFile(t, dir, "sp-cert.pem", string(certPEM))
	writeFile(t, dir, "sp-key.pem", string(certPEM)+string(keyPEM))
	writeFile(t, dir, "sp-secret", spSecret+"\n")
}
