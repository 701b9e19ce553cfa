package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestOpenIDConfigurationUsesRequestHost(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	for _, host := range []string{"login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us"} {
		status, _, body := do(t, e.Client(), newRequest(t, "GET", "https://"+host+"/"+testTenant+"/v2.0/.well-known/openid-configuration", nil))
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || status != 200 {
			t.Fatalf("%s: %d %s", host, status, body)
		}
		base := "https://" + host + "/" + testTenant
		if m["issuer"] != base+"/v2.0" || m["token_endpoint"] != base+"/oauth2/v2.0/token" || m["authorization_endpoint"] != base+"/oauth2/v2.0/authorize" {
			t.Errorf("%s: endpoints %v %v %v", host, m["issuer"], m["token_endpoint"], m["authorization_endpoint"])
		}
	}
	_, _, body := do(t, e.Client(), newRequest(t, "GET", "https://login.chinacloudapi.cn/common/discovery/instance?api-version=1.1&authorization_endpoint="+
		url.QueryEscape("https://login.chinacloudapi.cn/"+testTenant+"/oauth2/v2.0/authorize"), nil))
	var disc struct {
		TenantDiscoveryEndpoint string `json:"tenant_discovery_endpoint"`
	}
	_ = json.Unmarshal(body, &disc)
	if want := "https://login.chinacloudapi.cn/" + testTenant + "/v2.0/.well-known/openid-configuration"; disc.TenantDiscoveryEndpoint != want {
		t.Errorf("discovery endpoint %q, want %q", disc.TenantDiscoveryEndpoint, want)
	}
}

var traceRe = regexp.MustCompile(`^AADSTS\d+: .+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)

// entraFailure checks Entra's full error shape and returns the body.
func entraFailure(t *testing.T, status int, body []byte, wantStatus int, wantErr string, wantCode int) entraError {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %s", status, wantStatus, body)
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("error body lacks %q: %s", k, body)
		}
	}
	var e entraError
	_ = json.Unmarshal(body, &e)
	if e.Error != wantErr || len(e.Codes) != 1 || e.Codes[0] != wantCode {
		t.Errorf("error %q codes %v, want %q [%d]", e.Error, e.Codes, wantErr, wantCode)
	}
	if !traceRe.MatchString(e.Description) || !strings.Contains(e.Description, e.TraceID) {
		t.Errorf("description %q lacks the trace footer", e.Description)
	}
	return e
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	base := url.Values{"grant_type": {"client_credentials"}, "client_id": {ciClientID}, "client_secret": {ciSecret},
		"scope": {"https://vault.azure.net/.default openid offline_access profile"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vals := range base {
			f[key] = vals
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := []struct {
		name   string
		tenant string
		form   url.Values
		status int
		err    string
		code   int
	}{
		{"unknown tenant", "00000000-0000-0000-0000-000000000000", base, 400, "invalid_request", 90002},
		{"common tenant", "common", base, 400, "invalid_request", 90002},
		{"bad secret", testTenant, with("client_secret", "wrong"), 401, "invalid_client", 7000215},
		{"unknown client", testTenant, with("client_id", "99999999-9999-9999-9999-999999999999"), 400, "unauthorized_client", 700016},
		{"managed identity client id", testTenant, with("client_id", sysClientID), 400, "unauthorized_client", 700016},
		{"no credential", testTenant, with("client_secret", ""), 401, "invalid_client", 7000218},
		{"no client_id", testTenant, with("client_id", ""), 400, "invalid_request", 900144},
		{"no scope", testTenant, with("scope", ""), 400, "invalid_request", 900144},
		{"scope without .default", testTenant, with("scope", "https://vault.azure.net/read"), 400, "invalid_scope", 1002012},
		{"wrong grant", testTenant, with("grant_type", "password"), 400, "unsupported_grant_type", 70003},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, _, body := postForm(t, e, tc.tenant, tc.form)
			entraFailure(t, status, body, tc.status, tc.err, tc.code)
			if strings.Contains(string(body), ciSecret) {
				t.Error("error body contains the client secret")
			}
		})
	}
	t.Run("correlation id echoed", func(t *testing.T) {
		t.Parallel()
		req := newRequest(t, "POST", "https://login.microsoftonline.com/"+testTenant+"/oauth2/v2.0/token",
			strings.NewReader(with("client_secret", "wrong").Encode()), "Content-Type", "application/x-www-form-urlencoded",
			"client-request-id", "0d9e6a3c-0000-4000-8000-000000000001")
		status, _, body := do(t, e.Client(), req)
		if got := entraFailure(t, status, body, 401, "invalid_client", 7000215); got.CorrelationID != "0d9e6a3c-0000-4000-8000-000000000001" {
			t.Errorf("correlation_id %q", got.CorrelationID)
		}
	})
}

// assertion signs a client assertion like MSAL does (PS256, x5t#S256 in
// padded standard base64) with claims overridden by over.
func assertion(t *testing.T, key *rsa.PrivateKey, cert *x509.Certificate, x5t func([]byte) string, over jwt.MapClaims) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{"aud": "https://login.microsoftonline.com/" + testTenant + "/oauth2/v2.0/token",
		"iss": certClientID, "sub": certClientID, "jti": newUUID(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	for k, v := range over {
		claims[k] = v
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodPS256, claims)
	sum := sha256.Sum256(cert.Raw)
	tok.Header["x5t#S256"] = x5t(sum[:])
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func certKey(t *testing.T, c testCert) *rsa.PrivateKey {
	t.Helper()
	for rest := c.bothPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			t.Fatal("no key")
		}
		if b.Type == "PRIVATE KEY" {
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			return k.(*rsa.PrivateKey)
		}
	}
}

func TestCertificateAssertions(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	c := testCerts(t)
	key, otherKey := certKey(t, c[0]), certKey(t, c[1])
	std, url64 := stdB64, base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name   string
		jwt    string
		status int
		code   int
	}{
		{"msal style", assertion(t, key, c[0].cert, std, nil), 200, 0},
		{"base64url thumbprint", assertion(t, key, c[0].cert, url64, nil), 200, 0},
		{"expired", assertion(t, key, c[0].cert, std, jwt.MapClaims{"exp": time.Now().Add(-time.Minute).Unix()}), 401, 700024},
		{"wrong audience", assertion(t, key, c[0].cert, std, jwt.MapClaims{"aud": "https://login.microsoftonline.com/common/oauth2/v2.0/token"}), 401, 50027},
		{"wrong issuer", assertion(t, key, c[0].cert, std, jwt.MapClaims{"iss": ciClientID}), 401, 700021},
		{"unregistered certificate", assertion(t, otherKey, c[1].cert, std, nil), 401, 700027},
		{"signed by another key", assertion(t, otherKey, c[0].cert, std, nil), 401, 700027},
		{"not a jwt", "abc", 400, 50027},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {certClientID}, "client_assertion_type": {jwtBearer},
				"client_assertion": {tc.jwt}, "scope": {"https://vault.azure.net/.default"}}
			status, _, body := postForm(t, e, testTenant, form)
			if tc.status == 200 {
				if status != 200 {
					t.Fatalf("status %d: %s", status, body)
				}
				return
			}
			errName := "invalid_request"
			if tc.status == http.StatusUnauthorized {
				errName = "invalid_client"
			}
			entraFailure(t, status, body, tc.status, errName, tc.code)
			if strings.Contains(string(body), tc.jwt) && len(tc.jwt) > 3 {
				t.Error("error body echoes the assertion")
			}
		})
	}
}

func TestFederatedAssertions(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	keyFile := writeFile(t, t.TempDir(), "issuer.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	pub, err := readPublicKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	seed := testSeed(t)
	seed.ServicePrincipals = append(seed.ServicePrincipals, ServicePrincipal{Name: "ext", ClientID: "66666666-6666-6666-6666-666666666666",
		Federated: &Federation{Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:o/r:ref:refs/heads/main", Key: pub}})
	e := start(t, Options{Seed: seed})
	own, err := e.FederatedToken("wl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.FederatedToken("ext"); err == nil {
		t.Error("FederatedToken for an external key succeeded")
	}
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signWith := func(k *ecdsa.PrivateKey, claims jwt.MapClaims) string {
		now := time.Now()
		base := jwt.MapClaims{"iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r:ref:refs/heads/main",
			"aud": "api://AzureADTokenExchange", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range claims {
			base[k] = v
		}
		s, err := jwt.NewWithClaims(jwt.SigningMethodES256, base).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	sign := func(claims jwt.MapClaims) string { return signWith(ecKey, claims) }
	tests := []struct {
		name, client, jwt string
		status, code      int
	}{
		{"emulator-minted token", wlClientID, own, 200, 0},
		{"external key", "66666666-6666-6666-6666-666666666666", sign(nil), 200, 0},
		{"wrong subject", "66666666-6666-6666-6666-666666666666", sign(jwt.MapClaims{"sub": "repo:o/r:pull_request"}), 400, 70021},
		{"wrong audience", "66666666-6666-6666-6666-666666666666", sign(jwt.MapClaims{"aud": "api://other"}), 400, 700212},
		{"wrong issuer", "66666666-6666-6666-6666-666666666666", sign(jwt.MapClaims{"iss": "https://evil.example"}), 400, 700211},
		{"expired", "66666666-6666-6666-6666-666666666666", sign(jwt.MapClaims{"exp": time.Now().Add(-time.Minute).Unix()}), 401, 700024},
		{"signed by another key", "66666666-6666-6666-6666-666666666666", signWith(otherKey, nil), 401, 700027},
		{"token of another service principal", "66666666-6666-6666-6666-666666666666", own, 400, 700211},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {tc.client}, "client_assertion_type": {jwtBearer},
				"client_assertion": {tc.jwt}, "scope": {"https://vault.azure.net/.default"}, "client_info": {"1"}}
			status, _, body := postForm(t, e, testTenant, form)
			if tc.status == 200 {
				if status != 200 {
					t.Fatalf("status %d: %s", status, body)
				}
				return
			}
			errName := "invalid_request"
			if tc.status == http.StatusUnauthorized {
				errName = "invalid_client"
			}
			entraFailure(t, status, body, tc.status, errName, tc.code)
		})
	}
}

// stdB64 is how MSAL encodes x5t#S256: standard base64 with padding.
func stdB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestMalformedRequests sends odd requests to every endpoint: each gets an
// answer in the service's error shape (JSON where Azure uses JSON).
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	c := e.Client()
	login := "https://login.microsoftonline.com"
	tests := []struct {
		method, url, body string
		status            int
	}{
		{"GET", login + "/", "", 404},
		{"GET", login + "/a/b/c/d/e/f", "", 404},
		{"GET", login + "/" + testTenant + "/oauth2/v2.0/token", "", 405},
		{"POST", login + "/" + testTenant + "/oauth2/v2.0/token", "%zz=%", 400},
		{"POST", login + "/" + testTenant + "/oauth2/v2.0/token", strings.Repeat("a", 2<<20), 400},
		{"GET", login + "/%2e%2e/v2.0/.well-known/openid-configuration", "", 400},
		{"POST", "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x", "", 405},
		{"GET", "http://169.254.169.254/metadata/instance?api-version=2021-02-01", "", 404},
		{"GET", "http://169.254.169.254/metadata/identity/oauth2/token?resource=x", "", 400},
		{"GET", testVaultURL + "/secrets/%00/?api-version=7.4", "", 401},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.url[:min(len(tc.url), 60)], func(t *testing.T) {
			t.Parallel()
			req := newRequest(t, tc.method, tc.url, strings.NewReader(tc.body), "Metadata", "true",
				"Content-Type", "application/x-www-form-urlencoded")
			status, header, body := do(t, c, req)
			if status != tc.status {
				t.Errorf("status %d, want %d: %.200s", status, tc.status, body)
			}
			if !strings.HasPrefix(header.Get("Content-Type"), "application/json") || !json.Valid(body) {
				t.Errorf("not a JSON error: %s %.200s", header.Get("Content-Type"), body)
			}
		})
	}
}
