package certs

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// TestErrorsDoNotLeakSecrets feeds every failure this package reports with
// values that hold private keys, and checks that no error (nor warning)
// carries 16 or more consecutive characters of the value or of the key PEM.
func TestErrorsDoNotLeakSecrets(t *testing.T) {
	t.Parallel()
	now := time.Now()
	g := mustGenerate(t, Spec{KeyType: "RSA", Format: "pem", ChainLength: 2})
	other := mustGenerate(t, Spec{KeyType: "ECDSA", Format: "pem", ChainLength: 1})
	expired := mustGenerate(t, Spec{KeyType: "ECDSA", Format: "pem", NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.Add(-time.Hour)})
	future := mustGenerate(t, Spec{KeyType: "ECDSA", Format: "pem", NotBefore: now.Add(time.Hour), NotAfter: now.AddDate(1, 0, 0)})
	b := g.Bundle
	keyPEM := string(mustKeyPEM(t, b))
	keyDER, err := x509.MarshalPKCS8PrivateKey(b.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyB64 := base64.StdEncoding.EncodeToString(keyDER)
	certs := pemValue(nil, b.Leaf, b.Intermediates[0], b.Root)
	block := func(typ string, der []byte, headers map[string]string) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der}))
	}
	pfxDER, err := pkcs12.Modern.Encode(b.Key, b.Leaf, []*x509.Certificate{b.Intermediates[0], b.Root}, "")
	if err != nil {
		t.Fatal(err)
	}
	pfxWithPassword, err := pkcs12.Modern.Encode(b.Key, b.Leaf, nil, "hunter2-hunter2-hunter2")
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), pfxDER...)
	flipped[len(flipped)-200] ^= 0xff // inside the key bag: the MAC no longer matches
	passwordless, err := pkcs12.Passwordless.Encode(b.Key, b.Leaf, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	passwordless[len(passwordless)-40] ^= 0xff // inside the clear key: corrupt it
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519DER, err := x509.MarshalPKCS8PrivateKey(x25519)
	if err != nil {
		t.Fatal(err)
	}
	corruptCert := append([]byte(nil), b.Leaf.Raw...)
	corruptCert[4] ^= 0xff

	parseCases := map[string]struct{ value, contentType string }{
		"truncated key":          {certs + block("PRIVATE KEY", keyDER[:len(keyDER)/2], nil), ContentTypePEM},
		"pkcs8 labelled pkcs1":   {certs + block("RSA PRIVATE KEY", keyDER, nil), ContentTypePEM},
		"pkcs8 labelled sec1":    {certs + block("EC PRIVATE KEY", keyDER, nil), ContentTypePEM},
		"two keys":               {certs + keyPEM + keyPEM, ContentTypePEM},
		"legacy encrypted key":   {certs + block("RSA PRIVATE KEY", keyDER, map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}), ContentTypePEM},
		"pkcs8 encrypted key":    {certs + block("ENCRYPTED PRIVATE KEY", keyDER, nil), ContentTypePEM},
		"key only":               {keyPEM, ContentTypePEM},
		"x25519 key":             {certs + block("PRIVATE KEY", x25519DER, nil), ContentTypePEM},
		"corrupt certificate":    {pemValue(nil, &x509.Certificate{Raw: corruptCert}) + keyPEM, ContentTypePEM},
		"pem declared, not pem":  {keyB64, ContentTypePEM},
		"key der as pfx":         {keyB64, ContentTypePKCS12},
		"key der sniffed":        {keyB64, ""},
		"not base64":             {keyB64[:100] + "!" + keyB64[100:], ContentTypePKCS12},
		"truncated pfx":          {base64.StdEncoding.EncodeToString(pfxDER[:len(pfxDER)-300]), ContentTypePKCS12},
		"pfx with password":      {base64.StdEncoding.EncodeToString(pfxWithPassword), ContentTypePKCS12},
		"pfx mac mismatch":       {base64.StdEncoding.EncodeToString(flipped), ContentTypePKCS12},
		"corrupt passwordless":   {base64.StdEncoding.EncodeToString(passwordless), ContentTypePKCS12},
		"empty":                  {"", ""},
		"broken pem armour":      {strings.Replace(certs+keyPEM, "-----END", "----END", -1), ContentTypePEM},
		"pfx declared, raw der":  {string(pfxDER), ContentTypePKCS12},
		"pem with only garbage":  {"-----BEGIN PRIVATE KEY-----\n" + keyB64 + "\n", ContentTypePEM},
		"key der with pem label": {"-----BEGIN " + keyB64, ""},
	}
	for name, tc := range parseCases {
		t.Run("parse "+name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.value, tc.contentType)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			t.Logf("error: %v", err)
			assertNoLeak(t, err.Error(), tc.value, keyPEM, keyB64)
		})
	}

	// Failures after a successful parse.
	otherKeyDER, err := x509.MarshalPKCS8PrivateKey(other.Bundle.Key)
	if err != nil {
		t.Fatal(err)
	}
	mismatchValue := certs + block("PRIVATE KEY", otherKeyDER, nil)
	noKeyValue := certs
	bundleCases := map[string]struct {
		value string
		run   func(*Bundle) error
	}{
		"key mismatch": {mismatchValue, func(b *Bundle) error {
			_, err := b.Check(now, CheckOptions{})
			return err
		}},
		"expired": {expired.Value, func(b *Bundle) error {
			w, err := b.Check(now, CheckOptions{})
			if len(w) > 0 {
				t.Errorf("unexpected warnings %q", w)
			}
			return err
		}},
		"expired allowed warning": {expired.Value, func(b *Bundle) error {
			w, err := b.Check(now, CheckOptions{AllowExpired: true})
			if err != nil {
				return err
			}
			return errorsFromWarnings(w)
		}},
		"not yet valid": {future.Value, func(b *Bundle) error {
			_, err := b.Check(now, CheckOptions{})
			return err
		}},
		"no key needed": {noKeyValue, func(b *Bundle) error {
			_, err := b.Check(now, CheckOptions{NeedKey: true})
			return err
		}},
		"no key pem": {noKeyValue, func(b *Bundle) error {
			_, err := b.KeyPEM()
			return err
		}},
		"no key part": {noKeyValue, func(b *Bundle) error {
			_, err := b.Part(PartKey, "")
			return err
		}},
		"unknown part": {g.Value, func(b *Bundle) error {
			_, err := b.Part("certificate", "")
			return err
		}},
		"no root part": {certs[:strings.Index(certs, "-----END")+len("-----END CERTIFICATE-----\n")] + keyPEM, func(b *Bundle) error {
			_, err := b.Part(PartRoot, "")
			return err
		}},
	}
	for name, tc := range bundleCases {
		t.Run("bundle "+name, func(t *testing.T) {
			t.Parallel()
			pb := mustParse(t, tc.value, "")
			err := tc.run(pb)
			if err == nil {
				t.Fatal("no error, want one")
			}
			t.Logf("error: %v", err)
			assertNoLeak(t, err.Error(), tc.value, keyPEM, keyB64)
		})
	}
}

// errorsFromWarnings turns warnings into an error so the leak check sees them.
func errorsFromWarnings(w []string) error {
	if len(w) == 0 {
		return nil
	}
	return &warningError{strings.Join(w, "; ")}
}

type warningError struct{ msg string }

func (e *warningError) Error() string { return e.msg }
