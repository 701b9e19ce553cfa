// Package certs turns the secret behind a Key Vault certificate into the files
// that TLS servers and clients expect, and generates such secrets for tests.
//
// Creating a certificate in Key Vault also creates a secret of the same name
// that holds the certificate, its chain and, when the certificate policy marks
// the key exportable, its private key. The secret's content type says how:
//
//   - "application/x-pkcs12": the value is a standard-base64 PFX (PKCS#12)
//     with an empty password. Password-less PFX files (no MAC, no
//     encryption) are accepted too.
//   - "application/x-pem-file": the value is PEM text with the certificates and
//     a PRIVATE KEY block.
//
// Any other content type (or none) is sniffed: the value is PEM when it contains
// "-----BEGIN", else base64 PFX. Private keys may be PKCS#8 ("PRIVATE KEY"),
// PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY"); encrypted PEM keys are
// not supported. A value without a private key (a certificate whose key is not
// exportable) parses into a [Bundle] with a nil Key.
//
// [Parse] does not trust the order in which the secret lists its certificates.
// The leaf is the certificate whose public key matches the private key (without
// a key: the certificate that issued no other one). The chain is then rebuilt
// by following issuer links — authority and subject key identifiers when both
// are present, else issuer/subject names confirmed by a signature check — up to
// a self-signed root when the secret holds one. Certificates not on that chain
// are kept in [Bundle.Extra] and never written out.
//
// # Parts
//
// A manifest can ask for one part of a certificate ({cert: NAME, part: PART});
// [Bundle.Part] renders it and [Parts] lists the names:
//
//	key        the private key, PEM "PRIVATE KEY" (PKCS#8)
//	leaf       the leaf certificate, PEM
//	chain      the intermediate certificates, PEM, the leaf's issuer first
//	fullchain  the leaf, the intermediates, then the root if the secret has one
//	root       the self-signed root, PEM (an error when the secret has none)
//	pfx        key, leaf, intermediates and root as PKCS#12 (binary), encrypted
//	           with the given password (AES-256, HMAC-SHA-256; OpenSSL 1.1.1+)
//
// # Checks
//
// [Bundle.Check] reports what would make a server fail at run time: a key that
// does not belong to the leaf ([ErrKeyMismatch]), a missing key when one is
// needed ([ErrNoPrivateKey]: the certificate policy must mark the key
// exportable), an expired ([ErrExpired]) or not yet valid ([ErrNotYetValid])
// leaf, and warns when the leaf expires soon.
//
// # Secrets
//
// Errors from this package never contain the secret value, the private key or
// fragments of either; they name what was wrong and where (for example the
// index of a PEM block). The package holds no global mutable state; a [Bundle]
// is safe for concurrent reads once parsed.
//
// # Generation
//
// [Generate] creates a chain (root, intermediates, leaf) and encodes it the way
// Key Vault does, so tests, the emulator and users need no openssl.
package certs
