package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// go-pkcs12's DecodeChain, the only reader of encrypted certificate bags it
// exports, fails when the PFX holds no private key, which is what Key Vault
// returns for a certificate with a non-exportable key. decodeCertsOnly works
// around that without re-implementing PKCS#12 decryption: it adds a throwaway
// unencrypted key bag to the authenticated safe, drops the MAC (an empty
// password MAC protects nothing, and the caller has already verified it with
// DecodeChain, which checks the MAC before it looks for a key), decodes the
// result and keeps only the certificates.
//
// Limitation: a PFX whose MAC used the empty byte string rather than the
// encoded empty password (some old tools) and whose certificates are
// encrypted cannot be read this way.

var (
	oidPKCS7Data = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidKeyBag    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
)

// pfxOuter is PFX (RFC 7292 §4) with the MAC kept raw.
type pfxOuter struct {
	Version  int
	AuthSafe pfxContentInfo
	MacData  asn1.RawValue `asn1:"optional"`
}

// pfxNoMAC is PFX without macData, for re-encoding.
type pfxNoMAC struct {
	Version  int
	AuthSafe pfxContentInfo
}

type pfxContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type pfxSafeBag struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"tag:0,explicit"`
}

func decodeCertsOnly(der []byte) ([]*x509.Certificate, error) {
	var outer pfxOuter
	if rest, err := asn1.Unmarshal(der, &outer); err != nil || len(rest) != 0 || !outer.AuthSafe.ContentType.Equal(oidPKCS7Data) {
		return nil, errors.New("malformed pfx structure")
	}
	var safeDER []byte
	if _, err := asn1.Unmarshal(outer.AuthSafe.Content.Bytes, &safeDER); err != nil {
		return nil, errors.New("malformed pfx authenticated safe")
	}
	var infos []asn1.RawValue
	if _, err := asn1.Unmarshal(safeDER, &infos); err != nil {
		return nil, errors.New("malformed pfx authenticated safe")
	}
	bag, err := throwawayKeyBag()
	if err != nil {
		return nil, err
	}
	if infos, err = addBag(infos, bag); err != nil {
		return nil, err
	}
	out, err := marshalPFX(infos)
	if err != nil {
		return nil, err
	}
	_, leaf, cas, err := pkcs12.DecodeChain(out, "")
	if err != nil {
		return nil, pfxError(err)
	}
	return append([]*x509.Certificate{leaf}, cas...), nil
}

// throwawayKeyBag returns an unencrypted key bag with a fresh P-256 key.
func throwawayKeyBag() (asn1.RawValue, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return asn1.RawValue{}, fmt.Errorf("generate placeholder key: %w", err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return asn1.RawValue{}, fmt.Errorf("encode placeholder key: %w", err)
	}
	b, err := asn1.Marshal(pfxSafeBag{ID: oidKeyBag, Value: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: p8}})
	if err != nil {
		return asn1.RawValue{}, fmt.Errorf("encode placeholder key bag: %w", err)
	}
	return asn1.RawValue{FullBytes: b}, nil
}

// addBag puts bag into the first unencrypted SafeContents, or into a new one
// when there is none (go-pkcs12 reads at most two).
func addBag(infos []asn1.RawValue, bag asn1.RawValue) ([]asn1.RawValue, error) {
	for i, raw := range infos {
		var ci pfxContentInfo
		if _, err := asn1.Unmarshal(raw.FullBytes, &ci); err != nil {
			return nil, errors.New("malformed pfx content info")
		}
		if !ci.ContentType.Equal(oidPKCS7Data) {
			continue
		}
		var data []byte
		if _, err := asn1.Unmarshal(ci.Content.Bytes, &data); err != nil {
			return nil, errors.New("malformed pfx safe contents")
		}
		var bags []asn1.RawValue
		if _, err := asn1.Unmarshal(data, &bags); err != nil {
			return nil, errors.New("malformed pfx safe contents")
		}
		ci2, err := dataContentInfo(append(bags, bag))
		if err != nil {
			return nil, err
		}
		infos[i] = ci2
		return infos, nil
	}
	if len(infos) >= 2 {
		return nil, errors.New("unsupported pfx layout: more than one encrypted safe and no private key")
	}
	ci, err := dataContentInfo([]asn1.RawValue{bag})
	if err != nil {
		return nil, err
	}
	return append(infos, ci), nil
}

// dataContentInfo wraps safe bags in an unencrypted ContentInfo.
func dataContentInfo(bags []asn1.RawValue) (asn1.RawValue, error) {
	data, err := asn1.Marshal(bags)
	if err != nil {
		return asn1.RawValue{}, fmt.Errorf("encode safe contents: %w", err)
	}
	octets, err := asn1.Marshal(data)
	if err != nil {
		return asn1.RawValue{}, fmt.Errorf("encode safe contents: %w", err)
	}
	b, err := asn1.Marshal(pfxContentInfo{
		ContentType: oidPKCS7Data,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: octets},
	})
	if err != nil {
		return asn1.RawValue{}, fmt.Errorf("encode content info: %w", err)
	}
	return asn1.RawValue{FullBytes: b}, nil
}

func marshalPFX(infos []asn1.RawValue) ([]byte, error) {
	safe, err := asn1.Marshal(infos)
	if err != nil {
		return nil, fmt.Errorf("encode authenticated safe: %w", err)
	}
	octets, err := asn1.Marshal(safe)
	if err != nil {
		return nil, fmt.Errorf("encode authenticated safe: %w", err)
	}
	out, err := asn1.Marshal(pfxNoMAC{
		Version: 3,
		AuthSafe: pfxContentInfo{
			ContentType: oidPKCS7Data,
			Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: octets},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encode pfx: %w", err)
	}
	return out, nil
}
