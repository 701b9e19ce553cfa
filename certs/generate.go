package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Spec describes a certificate for [Generate]. The zero Spec is valid.
type Spec struct {
	// Subject is the leaf's common name; default "localhost".
	Subject string
	// DNSNames are the leaf's DNS names; default the Subject.
	DNSNames []string
	// KeyType is "RSA" (2048 bits, the default) or "ECDSA" (P-256; "EC" is
	// accepted too), for every certificate of the chain.
	KeyType string
	// ChainLength is the number of CAs above the leaf: 1 = root only,
	// 2 = root and one intermediate (the default), and so on.
	ChainLength int
	// NotBefore and NotAfter bound the leaf's validity; defaults now-1h and
	// now+365 days. The CAs are valid from a day before to a day after.
	NotBefore, NotAfter time.Time
	// Format is "pfx" (the default; "pkcs12" is accepted too) or "pem".
	Format string
	// NoKey leaves the private key out, as Key Vault does for a certificate
	// with a non-exportable key.
	NoKey bool
	// Shuffle writes the certificates in a scrambled order (PEM: all of them
	// and the key; PFX: the CAs after the leaf), to exercise chain ordering.
	Shuffle bool
}

// Generated is a secret value as Key Vault would return it for a certificate.
type Generated struct {
	// Value and ContentType are the secret's value and content type.
	Value, ContentType string
	// Bundle is what the value contains, in issuer order, for assertions.
	Bundle *Bundle
}

// Generate creates a fresh CA chain and leaf per spec and encodes them like
// Key Vault: base64 PFX with an empty password, or PEM (certificates, then
// a PKCS#8 key). It is slow-ish with RSA (tens of milliseconds per key).
func Generate(spec Spec) (*Generated, error) {
	spec, err := spec.withDefaults(time.Now())
	if err != nil {
		return nil, err
	}
	b, err := generateBundle(spec)
	if err != nil {
		return nil, err
	}
	g := &Generated{Bundle: b}
	if spec.Format == "pem" {
		g.ContentType = ContentTypePEM
		g.Value, err = encodePEM(b, spec)
	} else {
		g.ContentType = ContentTypePKCS12
		g.Value, err = encodePFX(b, spec)
	}
	if err != nil {
		return nil, err
	}
	if spec.NoKey {
		b.Key = nil
	}
	return g, nil
}

func (s Spec) withDefaults(now time.Time) (Spec, error) {
	if s.Subject == "" {
		s.Subject = "localhost"
	}
	if len(s.DNSNames) == 0 {
		s.DNSNames = []string{s.Subject}
	}
	switch strings.ToUpper(s.KeyType) {
	case "", "RSA":
		s.KeyType = "RSA"
	case "ECDSA", "EC":
		s.KeyType = "ECDSA"
	default:
		return s, fmt.Errorf("generate certificate: unknown key type %q (want RSA or ECDSA)", s.KeyType)
	}
	switch {
	case s.ChainLength == 0:
		s.ChainLength = 2
	case s.ChainLength < 0:
		return s, fmt.Errorf("generate certificate: chain length %d is negative", s.ChainLength)
	}
	if s.NotBefore.IsZero() {
		s.NotBefore = now.Add(-time.Hour)
	}
	if s.NotAfter.IsZero() {
		s.NotAfter = now.Add(365 * 24 * time.Hour)
	}
	if !s.NotAfter.After(s.NotBefore) {
		return s, fmt.Errorf("generate certificate: not after %s is not after not before %s", s.NotAfter.Format(time.RFC3339), s.NotBefore.Format(time.RFC3339))
	}
	switch strings.ToLower(s.Format) {
	case "", "pfx", "pkcs12":
		s.Format = "pfx"
	case "pem":
		s.Format = "pem"
	default:
		return s, fmt.Errorf("generate certificate: unknown format %q (want pfx or pem)", s.Format)
	}
	return s, nil
}

// generateBundle issues root, intermediates and leaf; the key is always set.
func generateBundle(s Spec) (*Bundle, error) {
	// The CAs outlive the leaf on both sides, so that a leaf made expired or
	// not yet valid is the only thing wrong with the chain.
	caFrom := s.NotBefore.Add(-24 * time.Hour)
	caUntil := s.NotAfter.Add(24 * time.Hour)
	var (
		parent    *x509.Certificate
		parentKey crypto.Signer
		cas       []*x509.Certificate
	)
	for i := range s.ChainLength {
		name := fmt.Sprintf("%s Intermediate CA %d", s.Subject, i)
		if i == 0 {
			name = s.Subject + " Root CA"
		}
		tmpl := &x509.Certificate{
			Subject:               pkix.Name{CommonName: name, Organization: []string{"agent certs.Generate"}},
			NotBefore:             caFrom,
			NotAfter:              caUntil,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		c, k, err := issue(tmpl, parent, parentKey, s.KeyType)
		if err != nil {
			return nil, fmt.Errorf("generate ca certificate: %w", err)
		}
		cas = append(cas, c)
		parent, parentKey = c, k
	}
	usage := x509.KeyUsageDigitalSignature
	if s.KeyType == "RSA" {
		usage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: s.Subject},
		DNSNames:              s.DNSNames,
		NotBefore:             s.NotBefore,
		NotAfter:              s.NotAfter,
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	leaf, key, err := issue(tmpl, parent, parentKey, s.KeyType)
	if err != nil {
		return nil, fmt.Errorf("generate leaf certificate: %w", err)
	}
	b := &Bundle{Key: key, Leaf: leaf}
	if len(cas) > 0 {
		b.Root = cas[0]
		for i := len(cas) - 1; i >= 1; i-- {
			b.Intermediates = append(b.Intermediates, cas[i])
		}
	}
	return b, nil
}

// issue creates a key and a certificate for tmpl signed by parent (self-signed
// when parent is nil).
func issue(tmpl, parent *x509.Certificate, parentKey crypto.Signer, keyType string) (*x509.Certificate, crypto.Signer, error) {
	var (
		key crypto.Signer
		err error
	)
	if keyType == "ECDSA" {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	if tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)); err != nil {
		return nil, nil, fmt.Errorf("generate serial number: %w", err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse generated certificate: %w", err)
	}
	return c, key, nil
}

func encodePEM(b *Bundle, s Spec) (string, error) {
	var blocks []*pem.Block
	for _, c := range b.chain() {
		blocks = append(blocks, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	if !s.NoKey {
		der, err := x509.MarshalPKCS8PrivateKey(b.Key)
		if err != nil {
			return "", fmt.Errorf("generate certificate: encode key: %w", err)
		}
		blocks = append(blocks, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	if s.Shuffle {
		scramble(blocks)
	}
	var buf bytes.Buffer
	for _, bl := range blocks {
		_ = pem.Encode(&buf, bl) // writing to a bytes.Buffer cannot fail
	}
	return buf.String(), nil
}

func encodePFX(b *Bundle, s Spec) (string, error) {
	certs := b.chain()
	if s.Shuffle {
		scramble(certs[1:])
	}
	var (
		der []byte
		err error
	)
	if s.NoKey {
		// A PFX of certificates only. go-pkcs12 can write one only as a
		// trust store; its extra attributes do not matter to readers.
		der, err = pkcs12.Modern.EncodeTrustStore(certs, "")
	} else {
		der, err = pkcs12.Modern.Encode(b.Key, certs[0], certs[1:], "")
	}
	if err != nil {
		return "", fmt.Errorf("generate certificate: encode pfx: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// scramble permutes s so that, when it has two or more elements, the
// result differs from the input order.
func scramble[T any](s []T) {
	if len(s) < 2 {
		return
	}
	orig := append([]T(nil), s...)
	for {
		mrand.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		for i := range s {
			if any(s[i]) != any(orig[i]) {
				return
			}
		}
	}
}
