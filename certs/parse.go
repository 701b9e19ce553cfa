package certs

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Parse reads the value of the secret behind a Key Vault certificate.
//
// contentType "application/x-pkcs12" means standard-base64 PFX with an empty
// password (a password-less PFX is accepted too); "application/x-pem-file"
// means PEM. Any other content type, including "", is sniffed: PEM when the
// value contains "-----BEGIN", else base64 PFX. A value labelled PKCS#12 that
// is in fact PEM is read as PEM.
//
// The leaf and the chain order are worked out from the certificates
// themselves, whatever order the secret holds them in (see the package
// documentation). Parse does not check validity dates or that the key matches
// the leaf; [Bundle.Check] does.
//
// Errors never contain the value, the key or fragments of either.
func Parse(value, contentType string) (*Bundle, error) {
	ct := normalizeContentType(contentType)
	var (
		key   crypto.Signer
		certs []*x509.Certificate
		err   error
	)
	switch {
	case ct == ContentTypePEM || looksPEM(value):
		key, certs, err = parsePEM(value)
		if err != nil {
			return nil, fmt.Errorf("parse certificate (pem): %w", err)
		}
	default:
		key, certs, err = parsePFX(value)
		if err != nil {
			return nil, fmt.Errorf("parse certificate (pfx): %w", err)
		}
	}
	b, err := assemble(key, certs)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return b, nil
}

func normalizeContentType(ct string) string {
	ct, _, _ = strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(ct))
}

func looksPEM(value string) bool {
	return strings.Contains(value, "-----BEGIN")
}

// parsePEM reads every PEM block. Blocks other than certificates and private
// keys (for example "EC PARAMETERS") are skipped.
func parsePEM(value string) (crypto.Signer, []*x509.Certificate, error) {
	var (
		key   crypto.Signer
		certs []*x509.Certificate
		rest  = []byte(value)
		n     int
	)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("parse certificate in pem block %d: %w", n, err)
			}
			certs = append(certs, c)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if key != nil {
				return nil, nil, fmt.Errorf("pem block %d: more than one private key", n)
			}
			if _, encrypted := block.Headers["DEK-Info"]; encrypted {
				return nil, nil, fmt.Errorf("pem block %d: encrypted private keys are not supported", n)
			}
			k, err := parseKey(block.Type, block.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("parse private key in pem block %d: %w", n, err)
			}
			key = k
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, fmt.Errorf("pem block %d: encrypted private keys are not supported", n)
		}
	}
	if n == 0 {
		return nil, nil, errors.New("no pem block found")
	}
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("no CERTIFICATE block among %d pem blocks", n)
	}
	return key, certs, nil
}

// parseKey parses DER key bytes. Its errors are our own words: the standard
// library's are free of key bytes today, but a key is the one thing that must
// never leak, so they are not passed on.
func parseKey(blockType string, der []byte) (crypto.Signer, error) {
	var (
		k   any
		err error
	)
	switch blockType {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(der)
	default:
		k, err = x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			// Some tools label PKCS#1 and SEC1 keys "PRIVATE KEY".
			if k1, err1 := x509.ParsePKCS1PrivateKey(der); err1 == nil {
				k, err = k1, nil
			} else if k2, err2 := x509.ParseECPrivateKey(der); err2 == nil {
				k, err = k2, nil
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("malformed %s (want PKCS#8, PKCS#1 RSA or SEC1 EC)", strings.ToLower(blockType))
	}
	return asSigner(k)
}

func asSigner(k any) (crypto.Signer, error) {
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T (not a signing key)", k)
	}
	return s, nil
}

// parsePFX decodes base64 PFX with an empty password. A PFX without a key
// (non-exportable certificate) yields a nil key.
func parsePFX(value string) (crypto.Signer, []*x509.Certificate, error) {
	der, err := decodeBase64(value)
	if err != nil {
		return nil, nil, err
	}
	if len(der) == 0 {
		return nil, nil, errors.New("empty value")
	}
	k, leaf, cas, err := pkcs12.DecodeChain(der, "")
	if err != nil && err.Error() == "pkcs12: private key missing" {
		// go-pkcs12 insists on a key and has no sentinel for its absence
		// (TestParsePFXWithoutKey notices if the message changes); read
		// the certificates by themselves.
		certs, err2 := decodeCertsOnly(der)
		if err2 != nil {
			return nil, nil, fmt.Errorf("decode pfx without private key: %w", err2)
		}
		return nil, certs, nil
	}
	if err != nil {
		return nil, nil, pfxError(err)
	}
	key, err := asSigner(k)
	if err != nil {
		return nil, nil, err
	}
	return key, append([]*x509.Certificate{leaf}, cas...), nil
}

func pfxError(err error) error {
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return errors.New("decode pfx: the integrity check fails with the empty password Key Vault uses (the pfx is corrupt or protected by a password; import it without one)")
	}
	// go-pkcs12's messages are fixed text and ASN.1 structure descriptions,
	// never input bytes.
	return fmt.Errorf("decode pfx: %w", err)
}

// decodeBase64 accepts standard base64 with or without padding, and line breaks.
func decodeBase64(value string) ([]byte, error) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, value)
	if der, err := base64.StdEncoding.DecodeString(s); err == nil {
		return der, nil
	}
	if der, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil {
		return der, nil
	}
	if der, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil {
		return der, nil
	}
	return nil, errors.New("value is neither pem nor base64 pfx")
}

// dedupe drops repeated certificates, keeping the first.
func dedupe(certs []*x509.Certificate) []*x509.Certificate {
	out := make([]*x509.Certificate, 0, len(certs))
	for _, c := range certs {
		dup := false
		for _, o := range out {
			if bytes.Equal(o.Raw, c.Raw) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}
