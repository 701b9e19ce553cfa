package certs

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// TestRenderedFilesWorkForTLS is what a server operator relies on: the
// fullchain and key files load as a TLS key pair, and the leaf verifies
// against the root file with the chain file as intermediates.
func TestRenderedFilesWorkForTLS(t *testing.T) {
	t.Parallel()
	for _, spec := range []Spec{
		{KeyType: "RSA", Subject: "www.contoso.com", ChainLength: 2},
		{KeyType: "ECDSA", Subject: "api.contoso.com", DNSNames: []string{"api.contoso.com", "api2.contoso.com"}, ChainLength: 3, Format: "pem", Shuffle: true},
		{KeyType: "ECDSA", Subject: "root-only.contoso.com", ChainLength: 1, Shuffle: true},
	} {
		t.Run(spec.KeyType+" "+spec.Subject, func(t *testing.T) {
			t.Parallel()
			g := mustGenerate(t, spec)
			b := mustParse(t, g.Value, g.ContentType)

			pair, err := tls.X509KeyPair(b.FullChainPEM(), mustKeyPEM(t, b))
			if err != nil {
				t.Fatalf("tls.X509KeyPair(fullchain, key): %v", err)
			}
			if want := 1 + len(b.Intermediates) + 1; len(pair.Certificate) != want {
				t.Errorf("key pair has %d certificates, want %d", len(pair.Certificate), want)
			}

			roots := x509.NewCertPool()
			if !roots.AppendCertsFromPEM(b.RootPEM()) {
				t.Fatal("RootPEM holds no certificate")
			}
			inter := x509.NewCertPool()
			inter.AppendCertsFromPEM(b.ChainPEM())
			leaf, err := x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			chains, err := leaf.Verify(x509.VerifyOptions{
				DNSName:       spec.Subject,
				Roots:         roots,
				Intermediates: inter,
				CurrentTime:   time.Now(),
			})
			if err != nil {
				t.Fatalf("verify leaf against RootPEM with ChainPEM: %v", err)
			}
			if got, want := len(chains[0]), spec.ChainLength+1; got != want {
				t.Errorf("verified chain length = %d, want %d", got, want)
			}
			if got := b.DNSNames(); !slices.Equal(got, g.Bundle.Leaf.DNSNames) {
				t.Errorf("DNSNames = %v, want %v", got, g.Bundle.Leaf.DNSNames)
			}
			if got, want := b.Subject(), "CN="+spec.Subject; got != want {
				t.Errorf("Subject = %q, want %q", got, want)
			}
		})
	}
}

func TestPFXRoundTrip(t *testing.T) {
	t.Parallel()
	for _, keyType := range []string{"RSA", "ECDSA"} {
		t.Run(keyType, func(t *testing.T) {
			t.Parallel()
			g := mustGenerate(t, Spec{KeyType: keyType, ChainLength: 3, Format: "pem", Shuffle: true})
			b := mustParse(t, g.Value, g.ContentType)
			const password = "correct horse battery staple"
			pfx, err := b.Part(PartPFX, password)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := pkcs12.DecodeChain(pfx, "wrong"); err == nil {
				t.Error("pfx decodes with a wrong password")
			}
			key, leaf, cas, err := pkcs12.DecodeChain(pfx, password)
			if err != nil {
				t.Fatalf("DecodeChain: %v", err)
			}
			if !sameCert(leaf, b.Leaf) {
				t.Error("pfx leaf is not the bundle's leaf")
			}
			if want := append(slices.Clone(b.Intermediates), b.Root); !sameCerts(cas, want) {
				t.Errorf("pfx CAs = %v, want %v", names(cas), names(want))
			}
			if !publicKeyMatches(key.(crypto.Signer).Public(), b.Leaf) {
				t.Error("pfx key does not match the leaf")
			}
		})
	}
}

func TestThumbprint(t *testing.T) {
	t.Parallel()
	g := mustGenerate(t, Spec{KeyType: "ECDSA"})
	b := mustParse(t, g.Value, g.ContentType)
	sum := sha1.Sum(b.Leaf.Raw)
	want := strings.ToUpper(hex.EncodeToString(sum[:]))
	if got := b.Thumbprint(); got != want || len(got) != 40 {
		t.Errorf("Thumbprint = %q, want %q", got, want)
	}
}

func TestPart(t *testing.T) {
	t.Parallel()
	g := mustGenerate(t, Spec{KeyType: "ECDSA", ChainLength: 2})
	b := mustParse(t, g.Value, g.ContentType)
	key := mustKeyPEM(t, b)
	want := map[string][]byte{
		PartKey:       key,
		PartLeaf:      b.LeafPEM(),
		PartChain:     b.ChainPEM(),
		PartFullChain: b.FullChainPEM(),
		PartRoot:      b.RootPEM(),
	}
	for _, part := range Parts() {
		t.Run(part, func(t *testing.T) {
			t.Parallel()
			got, err := b.Part(part, "")
			if err != nil {
				t.Fatalf("Part(%q): %v", part, err)
			}
			if len(got) == 0 {
				t.Fatalf("Part(%q) is empty", part)
			}
			if w, ok := want[part]; ok && !bytes.Equal(got, w) {
				t.Errorf("Part(%q) differs from its method", part)
			}
		})
	}
	if got := strings.Count(string(b.FullChainPEM()), "BEGIN CERTIFICATE"); got != 3 {
		t.Errorf("fullchain has %d certificates, want 3", got)
	}
	_, err := b.Part("cert", "")
	if err == nil || !strings.Contains(err.Error(), "key, leaf, chain, fullchain, root, pfx") {
		t.Errorf("Part(unknown) error = %v, want the list of parts", err)
	}
	if _, err := b.Part(PartRoot, ""); err != nil {
		t.Errorf("Part(root) with a root: %v", err)
	}
	noRoot := &Bundle{Key: b.Key, Leaf: b.Leaf, Intermediates: b.Intermediates}
	if _, err := noRoot.Part(PartRoot, ""); !errors.Is(err, ErrNoRoot) {
		t.Errorf("Part(root) without root error = %v, want ErrNoRoot", err)
	}
}

func TestGenerateRejectsBadSpec(t *testing.T) {
	t.Parallel()
	tests := map[string]Spec{
		"key type":     {KeyType: "DSA"},
		"format":       {Format: "der"},
		"chain length": {ChainLength: -1},
		"validity":     {NotBefore: time.Now(), NotAfter: time.Now().Add(-time.Hour)},
	}
	for name, spec := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := Generate(spec); err == nil {
				t.Errorf("Generate(%+v) succeeded, want an error", spec)
			}
		})
	}
}
