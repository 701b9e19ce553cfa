package certs

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Content types Key Vault gives the secret behind a certificate.
const (
	ContentTypePKCS12 = "application/x-pkcs12"
	ContentTypePEM    = "application/x-pem-file"
)

// Part names accepted by [Bundle.Part]; see the package documentation.
const (
	PartKey       = "key"
	PartLeaf      = "leaf"
	PartChain     = "chain"
	PartFullChain = "fullchain"
	PartRoot      = "root"
	PartPFX       = "pfx"
)

// Errors reported by [Bundle.Check], [Bundle.KeyPEM], [Bundle.PFX] and
// [Bundle.Part]; test with errors.Is.
var (
	// ErrNoPrivateKey means the secret holds no private key: the certificate
	// was created with a non-exportable key.
	ErrNoPrivateKey = errors.New("certificate has no private key")
	// ErrKeyMismatch means the private key does not belong to the leaf.
	ErrKeyMismatch = errors.New("private key does not match the certificate")
	// ErrExpired means the leaf's validity ended.
	ErrExpired = errors.New("certificate has expired")
	// ErrNotYetValid means the leaf's validity has not started.
	ErrNotYetValid = errors.New("certificate is not yet valid")
	// ErrNoRoot means a root was asked for but the secret holds none.
	ErrNoRoot = errors.New("certificate chain has no self-signed root")
)

// Bundle is a certificate with its key and chain, in issuer order. [Parse]
// and [Generate] build it; a Bundle built by hand must have a Leaf. It is safe
// for concurrent use once built; its methods do not modify it.
type Bundle struct {
	// Key is nil when the secret holds no private key (non-exportable certificate).
	Key crypto.Signer
	// Leaf is the end-entity certificate.
	Leaf *x509.Certificate
	// Intermediates are in issuer order: the leaf's issuer first.
	Intermediates []*x509.Certificate
	// Root is the self-signed root if the secret holds it, else nil.
	Root *x509.Certificate
	// Extra holds certificates not on the leaf's chain: kept, reported, never output.
	Extra []*x509.Certificate
}

// Parts returns the part names [Bundle.Part] accepts, in documentation order.
func Parts() []string {
	return []string{PartKey, PartLeaf, PartChain, PartFullChain, PartRoot, PartPFX}
}

// Part renders one part of the bundle by name (see [Parts]): PEM text for all
// parts but "pfx", which is binary PKCS#12 encrypted with pfxPassword (the
// only part that uses it). Part does not validate the bundle; call [Bundle.Check]
// first. Errors: [ErrNoPrivateKey] for key and pfx without a key, [ErrNoRoot]
// for root without a root, and an error naming the valid parts for an unknown
// name.
func (b *Bundle) Part(part, pfxPassword string) ([]byte, error) {
	switch part {
	case PartKey:
		return b.KeyPEM()
	case PartLeaf:
		return b.LeafPEM(), nil
	case PartChain:
		return b.ChainPEM(), nil
	case PartFullChain:
		return b.FullChainPEM(), nil
	case PartRoot:
		if b.Root == nil {
			return nil, fmt.Errorf("render part root: %w (the secret holds only the leaf and its intermediates; use part chain, or add the root to the certificate)", ErrNoRoot)
		}
		return b.RootPEM(), nil
	case PartPFX:
		return b.PFX(pfxPassword)
	default:
		return nil, fmt.Errorf("render part: unknown part %q (want one of %s)", part, strings.Join(Parts(), ", "))
	}
}

// KeyPEM returns the private key as a PEM "PRIVATE KEY" block (PKCS#8), or
// [ErrNoPrivateKey] when the bundle has no key.
func (b *Bundle) KeyPEM() ([]byte, error) {
	if b.Key == nil {
		return nil, fmt.Errorf("encode private key: %w", ErrNoPrivateKey)
	}
	der, err := x509.MarshalPKCS8PrivateKey(b.Key)
	if err != nil {
		// The standard library's message names only the key type.
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// LeafPEM returns the leaf certificate as PEM.
func (b *Bundle) LeafPEM() []byte {
	return certsPEM(b.Leaf)
}

// ChainPEM returns the intermediates as PEM, the leaf's issuer first; empty
// when the leaf was issued by the root directly.
func (b *Bundle) ChainPEM() []byte {
	return certsPEM(b.Intermediates...)
}

// FullChainPEM returns the leaf, the intermediates, then the root if present.
func (b *Bundle) FullChainPEM() []byte {
	return certsPEM(b.chain()...)
}

// RootPEM returns the root as PEM; empty when the bundle has no root.
func (b *Bundle) RootPEM() []byte {
	if b.Root == nil {
		return nil
	}
	return certsPEM(b.Root)
}

// PFX returns key, leaf, intermediates and root as PKCS#12, encrypted with
// password by go-pkcs12's Modern encoder. It returns [ErrNoPrivateKey] when the
// bundle has no key.
func (b *Bundle) PFX(password string) ([]byte, error) {
	if b.Key == nil {
		return nil, fmt.Errorf("encode pfx: %w", ErrNoPrivateKey)
	}
	cas := b.chain()[1:]
	out, err := pkcs12.Modern.Encode(b.Key, b.Leaf, cas, password)
	if err != nil {
		return nil, fmt.Errorf("encode pfx: %w", err)
	}
	return out, nil
}

// Thumbprint returns the SHA-1 of the leaf's DER in upper-case hex, as the
// Azure portal shows it (Key Vault's x5t is the same digest in base64url).
func (b *Bundle) Thumbprint() string {
	sum := sha1.Sum(b.Leaf.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// NotBefore returns the start of the leaf's validity.
func (b *Bundle) NotBefore() time.Time { return b.Leaf.NotBefore }

// NotAfter returns the end of the leaf's validity.
func (b *Bundle) NotAfter() time.Time { return b.Leaf.NotAfter }

// Subject returns the leaf's subject as a distinguished name, e.g. "CN=www.contoso.com".
func (b *Bundle) Subject() string { return b.Leaf.Subject.String() }

// DNSNames returns the leaf's DNS subject alternative names.
func (b *Bundle) DNSNames() []string { return append([]string(nil), b.Leaf.DNSNames...) }

// chain returns the leaf, the intermediates and the root if present.
func (b *Bundle) chain() []*x509.Certificate {
	out := make([]*x509.Certificate, 0, len(b.Intermediates)+2)
	out = append(out, b.Leaf)
	out = append(out, b.Intermediates...)
	if b.Root != nil {
		out = append(out, b.Root)
	}
	return out
}

func certsPEM(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		// Writing to a bytes.Buffer cannot fail.
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}
