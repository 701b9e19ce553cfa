package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kv-agent/agent/agent/emulator/kvserver"
)

// Default token lifetimes when the seed sets none: what Azure usually issues.
const (
	defaultEntraLifetime = time.Hour
	defaultMILifetime    = 24 * time.Hour
)

// issuer signs the emulator's access tokens (RS256) and federated tokens,
// and verifies them. Its key lives only in memory.
type issuer struct {
	key    *rsa.PrivateKey
	kid    string
	tenant string
	now    func() time.Time
	dir    *directory
}

func newIssuer(tenant string, now func() time.Time, dir *directory) (*issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate token signing key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("marshal token signing key: %w", err)
	}
	sum := sha256.Sum256(der)
	return &issuer{
		key:    key,
		kid:    base64.RawURLEncoding.EncodeToString(sum[:12]),
		tenant: tenant,
		now:    now,
		dir:    dir,
	}, nil
}

// iss is the issuer claim of access tokens, as Entra ID v1 tokens carry it.
func (is *issuer) iss() string { return "https://sts.windows.net/" + is.tenant + "/" }

// accessToken mints a token for p with audience resource.
func (is *issuer) accessToken(p *principal, resource string, lifetime time.Duration) (string, time.Time, time.Time, error) {
	now := is.now().Truncate(time.Second)
	exp := now.Add(lifetime)
	claims := jwt.MapClaims{
		"aud":   resource,
		"iss":   is.iss(),
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   exp.Unix(),
		"tid":   is.tenant,
		"oid":   p.objectID,
		"sub":   p.objectID,
		"appid": p.clientID,
		"idtyp": "app",
		"ver":   "1.0",
	}
	if p.resourceID != "" {
		claims["xms_mirid"] = p.resourceID
	}
	s, err := is.sign(claims)
	return s, now, exp, err
}

func (is *issuer) sign(claims jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = is.kid
	s, err := t.SignedString(is.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// federatedToken mints a workload-identity token for sp, as the Kubernetes
// token projection would, valid for an hour.
func (is *issuer) federatedToken(sp *ServicePrincipal) (string, error) {
	f := sp.Federated
	if f == nil {
		return "", fmt.Errorf("service principal %q has no federated credential", sp.Name)
	}
	if f.Key != nil {
		return "", fmt.Errorf("service principal %q trusts a key from the seed; the emulator cannot sign for it", sp.Name)
	}
	now := is.now().Truncate(time.Second)
	return is.sign(jwt.MapClaims{
		"iss": f.Issuer,
		"sub": f.Subject,
		"aud": []string{f.Audience},
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	})
}

var errUnknownPrincipal = errors.New("token names no identity in the seed")

// verify checks an access token's signature, issuer and lifetime and
// returns the caller and audience. It is kvserver's Authenticate. Errors
// never contain the token.
func (is *issuer) verify(token string) (kvserver.Caller, string, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return &is.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithTimeFunc(is.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(is.iss()),
	)
	if err != nil {
		return kvserver.Caller{}, "", fmt.Errorf("verify token: %w", err)
	}
	aud, _ := claims["aud"].(string)
	appid, _ := claims["appid"].(string)
	p := is.dir.byClientID[appid]
	if p == nil {
		return kvserver.Caller{}, "", errUnknownPrincipal
	}
	return kvserver.Caller{Name: p.name, ClientID: p.clientID, ObjectID: p.objectID, TenantID: is.tenant}, aud, nil
}
