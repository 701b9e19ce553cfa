package emulator

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

var assertionMethods = []string{"PS256", "RS256", "PS384", "RS384", "PS512", "RS512", "ES256", "ES384"}

// checkAssertion verifies a client assertion for sp: a certificate-signed
// JWT (AZURE.md §2.2) or a federated token (workload identity, §1.6).
// Failures never quote the assertion.
func (e *Emulator) checkAssertion(sp *ServicePrincipal, assertion, tokenURL string) *aadFailure {
	unverified := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(assertion, unverified)
	if err != nil {
		return fail(http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed.")
	}
	iss, _ := unverified["iss"].(string)
	if f := sp.Federated; f != nil && (iss == f.Issuer || len(sp.Certificates) == 0) {
		return e.checkFederated(sp, assertion, iss, unverified)
	}
	return e.checkCertificateAssertion(sp, assertion, tok, tokenURL)
}

func (e *Emulator) checkCertificateAssertion(sp *ServicePrincipal, assertion string, tok *jwt.Token, tokenURL string) *aadFailure {
	cert, thumb := findCertificate(sp.Certificates, tok.Header)
	if cert == nil {
		return fail(http.StatusUnauthorized, "invalid_client", 700027, "The certificate with identifier used to sign "+
			"the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of "+
			"key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "+
			"configured keys for app Id '%s'.]", thumb, sp.ClientID)
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(assertion, claims, func(*jwt.Token) (any, error) { return cert.PublicKey, nil },
		jwt.WithValidMethods(assertionMethods), jwt.WithTimeFunc(e.now), jwt.WithExpirationRequired())
	if f := timeOrSignature(err); f != nil {
		return f
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	if !strings.EqualFold(iss, sp.ClientID) || !strings.EqualFold(sub, sp.ClientID) {
		return fail(http.StatusUnauthorized, "invalid_client", 700021, "Client assertion application identifier "+
			"doesn't match 'client_id' parameter. Review the documentation at "+
			"https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .")
	}
	aud, _ := claims.GetAudience()
	v1 := strings.TrimSuffix(tokenURL, "/v2.0/token") + "/token"
	if len(aud) != 1 || (aud[0] != tokenURL && aud[0] != v1) {
		return fail(http.StatusUnauthorized, "invalid_client", 50027, "JWT token is invalid or malformed: the "+
			"client assertion's audience must be the token endpoint '%s'.", tokenURL)
	}
	return nil
}

// findCertificate matches the assertion header's x5t#S256 (standard or
// URL base64, padded or not; MSAL sends padded standard base64) or x5t
// (SHA-1) against the registered certificates. thumb is the client's
// thumbprint in hex, for the error message.
func findCertificate(certs []*x509.Certificate, header map[string]any) (*x509.Certificate, string) {
	if s, ok := header["x5t#S256"].(string); ok {
		want := decodeB64(s)
		for _, c := range certs {
			sum := sha256.Sum256(c.Raw)
			if want != nil && bytes.Equal(sum[:], want) {
				return c, ""
			}
		}
		return nil, strings.ToUpper(hex.EncodeToString(want))
	}
	if s, ok := header["x5t"].(string); ok {
		want := decodeB64(s)
		for _, c := range certs {
			sum := sha1.Sum(c.Raw)
			if want != nil && bytes.Equal(sum[:], want) {
				return c, ""
			}
		}
		return nil, strings.ToUpper(hex.EncodeToString(want))
	}
	return nil, "(none: the assertion header has no x5t#S256)"
}

func decodeB64(s string) []byte {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return nil
}

// checkFederated verifies a workload-identity token against sp's
// federated credential.
func (e *Emulator) checkFederated(sp *ServicePrincipal, assertion, iss string, unverified jwt.MapClaims) *aadFailure {
	f := sp.Federated
	sub, _ := unverified["sub"].(string)
	aud, _ := unverified.GetAudience()
	if iss != f.Issuer {
		return fail(http.StatusBadRequest, "invalid_request", 700211, "No matching federated identity record found "+
			"for presented assertion issuer '%s'. Please check your federated identity credential Subject, Audience "+
			"and Issuer against the presented assertion.", iss)
	}
	if sub != f.Subject {
		return fail(http.StatusBadRequest, "invalid_request", 70021, "No matching federated identity record found for "+
			"presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.",
			iss, sub, strings.Join(aud, ","))
	}
	if !contains(aud, f.Audience) {
		return fail(http.StatusBadRequest, "invalid_request", 700212, "No matching federated identity record found "+
			"for presented assertion audience '%s'.", strings.Join(aud, ","))
	}
	var key crypto.PublicKey = f.Key
	if key == nil {
		key = &e.tokens.key.PublicKey
	}
	_, err := jwt.Parse(assertion, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods(assertionMethods), jwt.WithTimeFunc(e.now), jwt.WithExpirationRequired())
	return timeOrSignature(err)
}

// timeOrSignature maps a JWT validation error to Entra's answer.
func timeOrSignature(err error) *aadFailure {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet),
		errors.Is(err, jwt.ErrTokenRequiredClaimMissing), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fail(http.StatusUnauthorized, "invalid_client", 700024, "Client assertion is not within its valid time range.")
	default:
		return fail(http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation.")
	}
}
