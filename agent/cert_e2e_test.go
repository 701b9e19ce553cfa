package agent_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/kv-agent/agent/certs"
)

// certSeed declares generated certificates in every shape the agent must
// handle, plus hand-made broken ones as plain secrets.
func certSeed(t *testing.T) string {
	t.Helper()
	a, err := certs.Generate(certs.Spec{Subject: "a.contoso.com", Format: "pem", KeyType: "ECDSA"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := certs.Generate(certs.Spec{Subject: "b.contoso.com", Format: "pem", KeyType: "ECDSA"})
	if err != nil {
		t.Fatal(err)
	}
	// a's certificates with b's key: the key does not match the leaf.
	mismatch := string(a.Bundle.FullChainPEM()) + mustKeyPEM(t, b.Bundle)
	return `
managedIdentities:
  system: {}
vaults:
  contoso:
    secrets:
      pfx-password: "pfx-PASSWORD-9d1"
      mismatch: {value: ` + yamlQuote(mismatch) + `, contentType: application/x-pem-file}
    certificates:
      rsa-pfx: {subject: www.contoso.com, dnsNames: [www.contoso.com], keyType: RSA, chainLength: 2, format: pfx}
      ec-pem-shuffled: {subject: api.contoso.com, keyType: ECDSA, chainLength: 3, format: pem, shuffle: true}
      no-key: {subject: hsm.contoso.com, keyType: ECDSA, format: pfx, exportable: false}
      expired: {subject: old.contoso.com, keyType: ECDSA, notBefore: 2020-01-01T00:00:00Z, notAfter: 2021-01-01T00:00:00Z}
      soon: {subject: soon.contoso.com, keyType: ECDSA, validFor: 240h}
    access:
      - {identity: system, permissions: [get]}
`
}

func mustKeyPEM(t *testing.T, b *certs.Bundle) string {
	k, err := b.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return string(k)
}

func yamlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

const certManifest = `
version: 1
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  rsa: main/rsa-pfx
  ec: main/ec-pem-shuffled
  pw: main/pfx-password
files:
  - {path: out/rsa/fullchain.pem, cert: rsa, part: fullchain}
  - {path: out/rsa/privkey.pem, cert: rsa, part: key}
  - {path: out/rsa/root.pem, cert: rsa, part: root}
  - {path: out/ec/fullchain.pem, cert: ec, part: fullchain}
  - {path: out/ec/privkey.pem, cert: ec, part: key}
  - {path: out/ec/chain.pem, cert: ec, part: chain}
  - {path: out/ec/root.pem, cert: ec, part: root}
  - {path: out/ec/leaf.pem, cert: ec, part: leaf}
  - {path: out/rsa.pfx.b64, template: '{{ certPFX "rsa" "pw" | b64enc }}'}
  - path: out/info.txt
    template: '{{ with cert "ec" }}{{ .Subject }} {{ .Thumbprint }} {{ len .DNSNames }}{{ end }}'
  - {path: out/rsa-key-from-template.pem, template: '{{ (cert "rsa").KeyPEM }}'}
`

func TestCertificatesEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, certSeed(t), dir)
	m := writeFile(t, dir, "agent.yaml", certManifest)
	r := runAgent(t, e, []string{"AGENT_LOG_LEVEL=debug"}, "render", "-m", m)
	expectCode(t, r, 0)
	assertNoKeyMaterial(t, r.stdout+r.stderr)

	for _, name := range []string{"rsa", "ec"} {
		full := readFile(t, filepath.Join(dir, "out", name, "fullchain.pem"))
		key := readFile(t, filepath.Join(dir, "out", name, "privkey.pem"))
		pair, err := tls.X509KeyPair([]byte(full), []byte(key))
		if err != nil {
			t.Fatalf("%s: fullchain + privkey do not load as a TLS key pair: %v", name, err)
		}
		if !strings.HasPrefix(key, "-----BEGIN PRIVATE KEY-----") {
			t.Errorf("%s: key is not PKCS#8", name)
		}
		leaf, _ := x509.ParseCertificate(pair.Certificate[0])
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM([]byte(readFile(t, filepath.Join(dir, "out", name, "root.pem"))))
		inter := x509.NewCertPool()
		for _, der := range pair.Certificate[1:] {
			c, _ := x509.ParseCertificate(der)
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
			t.Errorf("%s: leaf does not verify against the root: %v", name, err)
		}
		// Full chain order: each certificate is signed by the next.
		for i := 0; i+1 < len(pair.Certificate); i++ {
			c, _ := x509.ParseCertificate(pair.Certificate[i])
			issuer, _ := x509.ParseCertificate(pair.Certificate[i+1])
			if err := c.CheckSignatureFrom(issuer); err != nil {
				t.Errorf("%s: fullchain[%d] is not issued by fullchain[%d]", name, i, i+1)
			}
		}
	}
	// The shuffled PEM (chain length 3): fullchain is leaf + 2 intermediates + root, chain is the 2 intermediates.
	if n := strings.Count(readFile(t, filepath.Join(dir, "out/ec/fullchain.pem")), "BEGIN CERTIFICATE"); n != 4 {
		t.Errorf("ec fullchain has %d certificates, want 4", n)
	}
	if n := strings.Count(readFile(t, filepath.Join(dir, "out/ec/chain.pem")), "BEGIN CERTIFICATE"); n != 2 {
		t.Errorf("ec chain has %d certificates, want 2", n)
	}
	// PFX round trip with the password from another secret.
	pfx, err := base64.StdEncoding.DecodeString(readFile(t, filepath.Join(dir, "out/rsa.pfx.b64")))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := pkcs12.DecodeChain(pfx, "wrong"); err == nil {
		t.Errorf("PFX opens with a wrong password")
	}
	key, leaf, _, err := pkcs12.DecodeChain(pfx, "pfx-PASSWORD-9d1")
	if err != nil || key == nil || leaf.Subject.CommonName != "www.contoso.com" {
		t.Errorf("PFX round trip: key=%v leaf=%v err=%v", key != nil, leaf, err)
	}
	info := readFile(t, filepath.Join(dir, "out/info.txt"))
	if !strings.HasPrefix(info, "CN=api.contoso.com ") || len(strings.Fields(info)[1]) != 40 {
		t.Errorf("info.txt = %q", info)
	}
	if got := readFile(t, filepath.Join(dir, "out/rsa-key-from-template.pem")); got != readFile(t, filepath.Join(dir, "out/rsa/privkey.pem")) {
		t.Errorf("(cert).KeyPEM differs from the key part")
	}
}

func TestCertificateProblems(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		secret   string
		file     string
		code     int
		stderr   []string
		rendered bool
	}{
		{"key does not match the leaf", "main/mismatch", "{path: out/k.pem, cert: c, part: key}", 65,
			[]string{`certificate "c"`, "does not match"}, false},
		{"no private key", "main/no-key", "{path: out/k.pem, cert: c, part: key}", 65,
			[]string{`certificate "c"`, "no private key", "exportable"}, false},
		{"no private key, leaf only is fine", "main/no-key", "{path: out/k.pem, cert: c, part: leaf}", 0, nil, true},
		{"expired", "main/expired", "{path: out/k.pem, cert: c, part: fullchain}", 66,
			[]string{"expired"}, false},
		{"expired but allowed", "{vault: main, name: expired, allowExpired: true}", "{path: out/k.pem, cert: c, part: fullchain}", 0,
			[]string{"certificate expired"}, true},
		{"expiring soon warns", "main/soon", "{path: out/k.pem, cert: c, part: fullchain}", 0,
			[]string{"level=WARN", "certificate expiring", "expires in"}, true},
		{"no root in the secret", "main/mismatch", "{path: out/k.pem, cert: c, part: root}", 65, []string{`certificate "c"`}, false},
	}
	seed := certSeed(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			e := startEmulator(t, seed, dir)
			m := writeFile(t, dir, "agent.yaml", "version: 1\nvaults:\n  main: {url: https://contoso.vault.azure.net}\nsecrets:\n  c: "+tc.secret+"\nfiles:\n  - "+tc.file+"\n")
			r := runAgent(t, e, []string{"AGENT_LOG_LEVEL=debug"}, "render", "-m", m)
			expectCode(t, r, tc.code)
			for _, want := range tc.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			assertNoKeyMaterial(t, r.stdout+r.stderr)
			if got := fileExists(filepath.Join(dir, "out/k.pem")); got != tc.rendered {
				t.Errorf("out/k.pem exists = %v, want %v", got, tc.rendered)
			}
		})
	}
}

// assertNoKeyMaterial fails if out holds PEM blocks or long base64 runs.
func assertNoKeyMaterial(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, "-----BEGIN") {
		t.Errorf("output contains PEM:\n%s", out)
	}
	for _, f := range strings.FieldsFunc(out, func(r rune) bool { return r == ' ' || r == '\n' || r == '"' || r == '=' }) {
		if len(f) >= 64 && isBase64(f) {
			t.Errorf("output contains a long base64 run %q…", f[:16])
		}
	}
	if strings.Contains(out, "pfx-PASSWORD-9d1") {
		t.Errorf("output contains the PFX password")
	}
}

func isBase64(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/') {
			return false
		}
	}
	return true
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestCheckReportsCertificates: agent check shows each certificate's
// subject and expiry, warns within warnBefore, and fails on one that
// cannot be used — without key material in its output.
func TestCheckReportsCertificates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, certSeed(t), dir)
	m := writeFile(t, dir, "agent.yaml", `
version: 1
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  web: main/rsa-pfx
  soon: {vault: main, name: soon, warnBefore: 720h}
  quiet: {vault: main, name: soon, warnBefore: 24h}
`)
	r := runAgent(t, e, nil, "check", "-m", m)
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, "soon: warning: CN=soon.contoso.com certificate expires in") {
		t.Errorf("no expiry warning:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "quiet: warning") {
		t.Errorf("warned although the certificate expires after warnBefore:\n%s", r.stdout)
	}
	r = runAgent(t, e, nil, "check", "-m", m, "--output", "json")
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, `"subject": "CN=www.contoso.com"`) || !strings.Contains(r.stdout, `"thumbprint"`) {
		t.Errorf("json lacks the certificate:\n%s", r.stdout)
	}
	assertNoKeyMaterial(t, r.stdout+r.stderr)

	bad := writeFile(t, dir, "bad.yaml", "version: 1\nvaults:\n  main: {url: https://contoso.vault.azure.net}\nsecrets:\n  c: main/mismatch\n")
	r = runAgent(t, e, nil, "check", "-m", bad)
	expectCode(t, r, 65)
	if !strings.Contains(r.stdout, "does not match") {
		t.Errorf("check does not report the key mismatch:\n%s", r.stdout)
	}
	assertNoKeyMaterial(t, r.stdout+r.stderr)
}
