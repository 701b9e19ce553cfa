package kvserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/require"
)

const testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// testCallers are the identities test tokens may name.
var testCallers = map[string]Caller{
	"reader": {Name: "reader", ClientID: "11111111-0000-0000-0000-000000000001", ObjectID: "22222222-0000-0000-0000-000000000001", TenantID: testTenant},
	"writer": {Name: "writer", ClientID: "11111111-0000-0000-0000-000000000002", ObjectID: "22222222-0000-0000-0000-000000000002", TenantID: testTenant},
	"nobody": {Name: "nobody", ClientID: "11111111-0000-0000-0000-000000000003", ObjectID: "22222222-0000-0000-0000-000000000003", TenantID: testTenant},
}

// testAuthenticate understands tokens "test:<caller>:<aud>".
func testAuthenticate(token string) (Caller, string, error) {
	parts := strings.SplitN(token, ":", 3)
	if len(parts) != 3 || parts[0] != "test" {
		return Caller{}, "", errors.New("token signature is invalid")
	}
	c, ok := testCallers[parts[1]]
	if !ok {
		return Caller{}, "", errors.New("token names an unknown principal")
	}
	return c, parts[2], nil
}

func tok(caller, aud string) string { return "test:" + caller + ":" + aud }

// testCred is an azcore.TokenCredential issuing test tokens for the
// requested scope. It records the scopes asked for.
type testCred struct {
	caller string
	mu     sync.Mutex
	scopes []string
}

func (c *testCred) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scopes = append(c.scopes, opts.Scopes...)
	if len(opts.Scopes) != 1 {
		return azcore.AccessToken{}, errors.New("want exactly one scope")
	}
	aud := strings.TrimSuffix(opts.Scopes[0], "/.default")
	return azcore.AccessToken{Token: tok(c.caller, aud), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func (c *testCred) Scopes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.scopes...)
}

// observed counts Observe calls by "kind status".
type observed struct {
	mu     sync.Mutex
	counts map[string]int
}

func (o *observed) observe(kind, _, _ string, status int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.counts == nil {
		o.counts = map[string]int{}
	}
	o.counts[kind]++
}

func (o *observed) count(kind string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[kind]
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var testBase = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// env is a Server behind a TLS listener with a client that reaches it under
// any Key Vault host name.
type env struct {
	srv    *Server
	ts     *httptest.Server
	http   *http.Client
	obs    *observed
	clock  *fakeClock
	secret string // a configured secret value, for leak checks
}

// baseConfig has vault "contoso": db-password with two versions (v1, v2),
// a disabled secret, and access for reader (get, list) and writer (all).
func baseConfig() Config {
	off := false
	exp := testBase.Add(24 * time.Hour)
	return Config{
		Tenant: testTenant,
		Vaults: []Vault{{
			Name: "contoso",
			Secrets: map[string]Secret{
				"db-password": {Versions: []Version{
					{Value: "hunter1-old"},
					{Value: "hunter2-current", ContentType: "text/plain", Tags: map[string]string{"team": "pay"}, Expires: &exp},
				}},
				"off": {Versions: []Version{{Value: "disabled-value", Enabled: &off}}},
				"web-tls": {Versions: []Version{{Value: "UEZY", ContentType: "application/x-pkcs12", Managed: true,
					KeyID: "https://contoso.vault.azure.net/keys/web-tls/0123456789abcdef0123456789abcdef"}}},
			},
			Access: []Access{
				{Identity: "reader", Permissions: []string{"get", "list"}},
				{Identity: "writer", Permissions: []string{"get", "list", "set"}},
			},
		}},
		Authenticate: testAuthenticate,
	}
}

// newEnv starts a server for cfg (after mod, if any).
func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	cfg := baseConfig()
	e := &env{obs: &observed{}, clock: &fakeClock{now: testBase}}
	cfg.Now = e.clock.Now
	cfg.Observe = e.obs.observe
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	require.NoError(t, err)
	e.srv = srv
	cert, pool := testCert(t)
	e.ts = httptest.NewUnstartedServer(srv)
	e.ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	e.ts.StartTLS()
	t.Cleanup(e.ts.Close)
	addr := e.ts.Listener.Addr().String()
	var d net.Dialer
	e.http = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		},
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: 64,
	}}
	return e
}

// client is an azsecrets client for vaultURL with retries disabled.
func (e *env) client(t testing.TB, vaultURL string, cred azcore.TokenCredential) *azsecrets.Client {
	t.Helper()
	c, err := azsecrets.NewClient(vaultURL, cred, &azsecrets.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: e.http,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}})
	require.NoError(t, err)
	return c
}

// do sends a raw request; token "" sends no Authorization.
func (e *env) do(t testing.TB, method, url, token, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// testCert is a self-signed certificate for the Key Vault host names.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kvserver test"},
		DNSNames:              []string{"*.vault.azure.net", "*.vault.azure.cn", "*.vault.usgovcloudapi.net"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
