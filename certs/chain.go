package certs

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
)

// assemble picks the leaf and orders the chain by issuer links, whatever order
// certs come in.
func assemble(key crypto.Signer, certs []*x509.Certificate) (*Bundle, error) {
	certs = dedupe(certs)
	if len(certs) == 0 {
		return nil, errors.New("no certificate found")
	}
	leaf := pickLeaf(key, certs)
	b := &Bundle{Key: key, Leaf: leaf}
	path := buildPath(leaf, certs)
	for _, c := range path[1:] {
		if isSelfSigned(c) {
			b.Root = c
			break // a self-signed certificate ends the chain
		}
		b.Intermediates = append(b.Intermediates, c)
	}
	for _, c := range certs {
		if !contains(path, c) {
			b.Extra = append(b.Extra, c)
		}
	}
	return b, nil
}

// pickLeaf returns the certificate whose public key matches key; without a
// key (or when the key matches none), the certificate that issued no other
// one, preferring non-CA certificates and then the longest chain.
func pickLeaf(key crypto.Signer, certs []*x509.Certificate) *x509.Certificate {
	if key != nil {
		for _, c := range certs {
			if publicKeyMatches(key.Public(), c) {
				return c
			}
		}
	}
	var best *x509.Certificate
	bestScore := -1
	for _, c := range certs {
		if issuesAny(c, certs) {
			continue
		}
		score := len(buildPath(c, certs))
		if !c.IsCA {
			score += len(certs) + 1 // any non-CA beats any CA
		}
		if score > bestScore {
			best, bestScore = c, score
		}
	}
	if best == nil {
		// Every certificate issues another one (a cycle of cross-signs):
		// fall back to the order the secret gave.
		best = certs[0]
	}
	return best
}

func publicKeyMatches(pub crypto.PublicKey, c *x509.Certificate) bool {
	k, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(c.PublicKey)
}

// issuesAny reports whether c issued any other certificate in certs.
func issuesAny(c *x509.Certificate, certs []*x509.Certificate) bool {
	for _, o := range certs {
		if o != c && issued(c, o) {
			return true
		}
	}
	return false
}

// buildPath follows issuer links from start through certs, using each
// certificate once, and stops at a self-signed certificate or when no issuer
// is found. The result begins with start.
func buildPath(start *x509.Certificate, certs []*x509.Certificate) []*x509.Certificate {
	path := []*x509.Certificate{start}
	for cur := start; !isSelfSigned(cur); {
		next := findIssuer(cur, certs, path)
		if next == nil {
			break
		}
		path = append(path, next)
		cur = next
	}
	return path
}

// findIssuer returns the issuer of c among certs not yet in used; among
// several (cross-signing), the first in the secret's order.
func findIssuer(c *x509.Certificate, certs, used []*x509.Certificate) *x509.Certificate {
	for _, cand := range certs {
		if !contains(used, cand) && issued(cand, c) {
			return cand
		}
	}
	return nil
}

// issued reports whether parent issued child: by key identifiers when both
// are present, else by names confirmed with the signature.
func issued(parent, child *x509.Certificate) bool {
	if len(child.AuthorityKeyId) > 0 && len(parent.SubjectKeyId) > 0 {
		return bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId)
	}
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	return parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) == nil
}

// isSelfSigned reports whether c issued itself.
func isSelfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return false
	}
	if len(c.AuthorityKeyId) > 0 && len(c.SubjectKeyId) > 0 {
		return bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId)
	}
	return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func contains(list []*x509.Certificate, c *x509.Certificate) bool {
	for _, o := range list {
		if o == c {
			return true
		}
	}
	return false
}
