package certs

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func TestParseGenerated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec Spec
	}{
		{"pfx rsa", Spec{}},
		{"pfx ecdsa", Spec{KeyType: "ECDSA"}},
		{"pfx shuffled cas", Spec{KeyType: "ECDSA", ChainLength: 4, Shuffle: true}},
		{"pfx root only", Spec{KeyType: "ECDSA", ChainLength: 1}},
		{"pfx no key", Spec{KeyType: "ECDSA", NoKey: true, Shuffle: true, ChainLength: 3}},
		{"pem rsa", Spec{Format: "pem"}},
		{"pem ecdsa", Spec{Format: "pem", KeyType: "ECDSA"}},
		{"pem shuffled", Spec{Format: "pem", KeyType: "ECDSA", ChainLength: 4, Shuffle: true}},
		{"pem shuffled rsa", Spec{Format: "pem", ChainLength: 3, Shuffle: true}},
		{"pem no key shuffled", Spec{Format: "pem", KeyType: "ECDSA", ChainLength: 3, NoKey: true, Shuffle: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := mustGenerate(t, tt.spec)
			for _, ct := range []string{g.ContentType, "", "application/octet-stream", strings.ToUpper(g.ContentType) + "; charset=utf-8"} {
				b := mustParse(t, g.Value, ct)
				assertBundle(t, b, g.Bundle)
				if len(b.Extra) != 0 {
					t.Errorf("content type %q: extra = %v, want none", ct, names(b.Extra))
				}
			}
		})
	}
}

func TestParseShuffledPEMOrder(t *testing.T) {
	t.Parallel()
	// Certificates given root first, key in the middle: the chain must come
	// out leaf's issuer first, whatever the input order.
	g := mustGenerate(t, Spec{KeyType: "ECDSA", ChainLength: 3, Format: "pem"})
	want := g.Bundle
	der, err := x509.MarshalPKCS8PrivateKey(want.Key)
	if err != nil {
		t.Fatal(err)
	}
	key := pemValue(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	orders := map[string]string{
		"root first":   pemValue(nil, want.Root, want.Intermediates[1], want.Intermediates[0]) + key + pemValue(nil, want.Leaf),
		"leaf last":    pemValue(nil, want.Intermediates[0], want.Root, want.Intermediates[1], want.Leaf) + key,
		"key first":    key + pemValue(nil, want.Intermediates[1], want.Leaf, want.Root, want.Intermediates[0]),
		"with garbage": "subject=CN=x\nissuer=CN=y\n" + pemValue(nil, want.Root, want.Leaf) + "\n\n" + key + pemValue(nil, want.Intermediates[1], want.Intermediates[0]),
	}
	for name, value := range orders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := mustParse(t, value, ContentTypePEM)
			assertBundle(t, b, want)
			if got := string(b.FullChainPEM()); got != pemValue(nil, want.Leaf, want.Intermediates[0], want.Intermediates[1], want.Root) {
				t.Errorf("FullChainPEM not in leaf, issuer, ..., root order")
			}
			if got := string(b.ChainPEM()); got != pemValue(nil, want.Intermediates[0], want.Intermediates[1]) {
				t.Errorf("ChainPEM not in issuer order")
			}
			if got := string(b.RootPEM()); got != pemValue(nil, want.Root) {
				t.Errorf("RootPEM is not the root")
			}
		})
	}
}

func TestParseKeyFormats(t *testing.T) {
	t.Parallel()
	rsaG := mustGenerate(t, Spec{Format: "pem", ChainLength: 1})
	ecG := mustGenerate(t, Spec{Format: "pem", KeyType: "ECDSA", ChainLength: 1})
	rsaKey := x509.MarshalPKCS1PrivateKey(rsaG.Bundle.Key.(*rsa.PrivateKey))
	ecKey, err := x509.MarshalECPrivateKey(ecG.Bundle.Key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		g     *Generated
		block *pem.Block
	}{
		{"pkcs1 rsa", rsaG, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: rsaKey}},
		{"sec1 ec", ecG, &pem.Block{Type: "EC PRIVATE KEY", Bytes: ecKey}},
		{"pkcs1 labelled PRIVATE KEY", rsaG, &pem.Block{Type: "PRIVATE KEY", Bytes: rsaKey}},
		{"sec1 labelled PRIVATE KEY", ecG, &pem.Block{Type: "PRIVATE KEY", Bytes: ecKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := tt.g.Bundle
			value := pemValue(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}}) +
				pemValue(tt.block, want.Leaf, want.Root)
			b := mustParse(t, value, ContentTypePEM)
			assertBundle(t, b, want)
			// KeyPEM always renders PKCS#8.
			blk, _ := pem.Decode(mustKeyPEM(t, b))
			if blk == nil || blk.Type != "PRIVATE KEY" {
				t.Fatalf("KeyPEM block = %v, want PRIVATE KEY", blk)
			}
			if _, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err != nil {
				t.Errorf("KeyPEM is not PKCS#8: %v", err)
			}
		})
	}
}

func TestParsePFXEncoders(t *testing.T) {
	t.Parallel()
	g := mustGenerate(t, Spec{KeyType: "ECDSA", ChainLength: 3})
	want := g.Bundle
	// The CAs in scrambled order after the leaf.
	cas := []*x509.Certificate{want.Root, want.Intermediates[1], want.Intermediates[0]}
	encoders := map[string]*pkcs12.Encoder{
		"legacy des":   pkcs12.LegacyDES,
		"legacy rc2":   pkcs12.LegacyRC2,
		"passwordless": pkcs12.Passwordless,
		"modern 2026":  pkcs12.Modern2026,
	}
	for name, enc := range encoders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			der, err := enc.Encode(want.Key, want.Leaf, cas, "")
			if err != nil {
				t.Fatal(err)
			}
			value := base64.StdEncoding.EncodeToString(der)
			b := mustParse(t, value, ContentTypePKCS12)
			assertBundle(t, b, want)
			// Line-wrapped base64 (as some tools upload it) still parses.
			wrapped := ""
			for i := 0; i < len(value); i += 64 {
				wrapped += value[i:min(i+64, len(value))] + "\n"
			}
			assertBundle(t, mustParse(t, wrapped, ContentTypePKCS12), want)
		})
	}
}

func TestParsePFXWithoutKey(t *testing.T) {
	t.Parallel()
	g := mustGenerate(t, Spec{KeyType: "ECDSA", ChainLength: 2, Shuffle: true})
	value := stripKeySafe(t, g.Value)
	b := mustParse(t, value, ContentTypePKCS12)
	want := *g.Bundle
	want.Key = nil
	assertBundle(t, b, &want)
	if _, err := b.KeyPEM(); !errors.Is(err, ErrNoPrivateKey) {
		t.Errorf("KeyPEM error = %v, want ErrNoPrivateKey", err)
	}
	for _, part := range []string{PartKey, PartPFX} {
		if _, err := b.Part(part, ""); !errors.Is(err, ErrNoPrivateKey) {
			t.Errorf("Part(%q) error = %v, want ErrNoPrivateKey", part, err)
		}
	}
	if got := string(b.FullChainPEM()); got != string(g.Bundle.FullChainPEM()) {
		t.Errorf("FullChainPEM differs from the generated chain")
	}
}

func TestParseExtraCertificates(t *testing.T) {
	t.Parallel()
	g := mustGenerate(t, Spec{KeyType: "ECDSA", Format: "pem", ChainLength: 2})
	// Another chain with the same CA names but other keys: only key
	// identifiers tell them apart.
	other := mustGenerate(t, Spec{KeyType: "ECDSA", Format: "pem", ChainLength: 2})
	want := g.Bundle
	for _, withKey := range []bool{true, false} {
		var key *pem.Block
		if withKey {
			der, err := x509.MarshalPKCS8PrivateKey(want.Key)
			if err != nil {
				t.Fatal(err)
			}
			key = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
		}
		value := pemValue(key, other.Bundle.Intermediates[0], want.Root, want.Leaf, other.Bundle.Root, want.Intermediates[0], want.Leaf)
		b := mustParse(t, value, "")
		w := *want
		if !withKey {
			// Without a key, the other chain's intermediate also issued
			// nothing here, but it is a CA: the end-entity certificate wins.
			w.Key = nil
		}
		assertBundle(t, b, &w)
		if !sameCerts(b.Extra, []*x509.Certificate{other.Bundle.Intermediates[0], other.Bundle.Root}) {
			t.Errorf("withKey=%v: extra = %v, want the other chain's CAs", withKey, names(b.Extra))
		}
	}
}

func TestParseSelfSigned(t *testing.T) {
	t.Parallel()
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{CommonName: "self.example"},
		DNSNames:  []string{"self.example"},
		NotBefore: time.Now().Add(-time.Hour),
		NotAfter:  time.Now().Add(time.Hour),
	}
	leaf, key, err := issue(tmpl, nil, nil, "ECDSA")
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b := mustParse(t, pemValue(&pem.Block{Type: "PRIVATE KEY", Bytes: der}, leaf), ContentTypePEM)
	assertBundle(t, b, &Bundle{Key: key, Leaf: leaf})
	if len(b.RootPEM()) != 0 || len(b.ChainPEM()) != 0 {
		t.Errorf("self-signed leaf: want no root and no chain")
	}
	if _, err := b.Part(PartRoot, ""); !errors.Is(err, ErrNoRoot) {
		t.Errorf("Part(root) error = %v, want ErrNoRoot", err)
	}
}
