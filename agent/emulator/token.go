package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
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

	// verified caches tokens whose signature was checked, by SHA-256 of
	// the token, so that a client reusing its token (as every client does)
	// costs one RSA verification, not one per request. Lifetime is still
	// checked on every use.
	mu       sync.Mutex
	verified map[[32]byte]verifiedToken
}

type verifiedToken struct {
	caller   kvserver.Caller
	aud      string
	nbf, exp time.Time
}

// maxVerified bounds the verified-token cache; it is emptied when full.
const maxVerified = 4096

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
	key := sha256.Sum256([]byte(token))
	is.mu.Lock()
	v, ok := is.verified[key]
	is.mu.Unlock()
	if ok {
		now := is.now()
		if now.Before(v.exp) && !now.Before(v.nbf) {
			return v.caller, v.aud, nil
		}
	}
	caller, aud, err := is.verifySignature(token)
	return caller, aud, err
}

// verifySignature fully checks a token and caches the result.
func (is *issuer) verifySignature(token string) (kvserver.Caller, string, error) {
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
	caller := kvserver.Caller{Name: p.name, ClientID: p.clientID, ObjectID: p.objectID, TenantID: is.tenant}
	exp, _ := claims.GetExpirationTime()
	nbf, _ := claims.GetNotBefore()
	v := verifiedToken{caller: caller, aud: aud, exp: exp.Time}
	if nbf != nil {
		v.nbf = nbf.Time
	}
	is.mu.Lock()
	if len(is.verified) >= maxVerified || is.verified == nil {
		is.verified = make(map[[32]byte]verifiedToken)
	}
	is.verified[sha256.Sum256([]byte(token))] = v
	is.mu.Unlock()
	return caller, aud, nil
}
