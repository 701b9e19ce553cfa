package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
)

func mustGenerate(t *testing.T, spec Spec) *Generated {
	t.Helper()
	g, err := Generate(spec)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", spec, err)
	}
	return g
}

func mustParse(t *testing.T, value, contentType string) *Bundle {
	t.Helper()
	b, err := Parse(value, contentType)
	if err != nil {
		t.Fatalf("Parse(contentType %q): %v", contentType, err)
	}
	return b
}

func mustKeyPEM(t *testing.T, b *Bundle) []byte {
	t.Helper()
	k, err := b.KeyPEM()
	if err != nil {
		t.Fatalf("KeyPEM: %v", err)
	}
	return k
}

func names(certs []*x509.Certificate) []string {
	var out []string
	for _, c := range certs {
		out = append(out, c.Subject.CommonName)
	}
	return out
}

func sameCert(a, b *x509.Certificate) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.Raw, b.Raw)
}

func sameCerts(a, b []*x509.Certificate) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameCert(a[i], b[i]) {
			return false
		}
	}
	return true
}

// assertBundle checks that got holds want's leaf, chain, root and key, in order.
func assertBundle(t *testing.T, got, want *Bundle) {
	t.Helper()
	if !sameCert(got.Leaf, want.Leaf) {
		t.Errorf("leaf = %v, want %v", got.Leaf.Subject, want.Leaf.Subject)
	}
	if !sameCerts(got.Intermediates, want.Intermediates) {
		t.Errorf("intermediates = %v, want %v", names(got.Intermediates), names(want.Intermediates))
	}
	if !sameCert(got.Root, want.Root) {
		t.Errorf("root = %v, want %v", names([]*x509.Certificate{got.Root}), names([]*x509.Certificate{want.Root}))
	}
	switch {
	case want.Key == nil && got.Key != nil:
		t.Errorf("key present, want none")
	case want.Key != nil && got.Key == nil:
		t.Errorf("key missing")
	case want.Key != nil && !publicKeyMatches(got.Key.Public(), want.Leaf):
		t.Errorf("key is not the leaf's key")
	}
}

// pemValue builds a PEM secret from certificates and an optional key block.
func pemValue(key *pem.Block, certs ...*x509.Certificate) string {
	var buf bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	if key != nil {
		_ = pem.Encode(&buf, key)
	}
	return buf.String()
}

// stripKeySafe removes the unencrypted SafeContents holding the key and the
// MAC from a go-pkcs12 PFX, giving a certificate-only PFX whose certificates
// are still encrypted, as Windows and .NET write for non-exportable keys.
func stripKeySafe(t *testing.T, b64 string) string {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	var outer pfxOuter
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		t.Fatal(err)
	}
	var safeDER []byte
	if _, err := asn1.Unmarshal(outer.AuthSafe.Content.Bytes, &safeDER); err != nil {
		t.Fatal(err)
	}
	var infos []asn1.RawValue
	if _, err := asn1.Unmarshal(safeDER, &infos); err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 {
		t.Fatalf("want 2 safe contents, got %d", len(infos))
	}
	out, err := marshalPFX(infos[:1])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

// assertNoLeak fails when msg contains any substring of 16 or more
// characters of any secret.
func assertNoLeak(t *testing.T, msg string, secrets ...string) {
	t.Helper()
	const window = 16
	for _, s := range secrets {
		for i := 0; i+window <= len(s); i++ {
			if frag := s[i : i+window]; strings.Contains(msg, frag) {
				t.Fatalf("message leaks secret fragment %q: %s", frag, msg)
			}
		}
	}
}
