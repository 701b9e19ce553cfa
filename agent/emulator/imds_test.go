package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const imdsURL = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net"

// imdsToken gets a token from IMDS through the proxy; extra is appended to
// the query (e.g. "&client_id=...").
func imdsToken(t testing.TB, e *Emulator, extra string) string {
	t.Helper()
	status, _, body := do(t, e.Client(), newRequest(t, "GET", imdsURL+extra, nil, "Metadata", "true"))
	if status != 200 {
		t.Fatalf("IMDS: %d %s", status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// ciToken gets a token for service principal "ci" with its client secret.
func ciToken(t testing.TB, e *Emulator) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {ciClientID}, "client_secret": {ciSecret},
		"scope": {"https://vault.azure.net/.default"}}
	status, _, body := postForm(t, e, e.Tenant(), form)
	if status != 200 {
		t.Fatalf("token: %d %s", status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func postForm(t testing.TB, e *Emulator, tenant string, form url.Values) (int, http.Header, []byte) {
	t.Helper()
	return do(t, e.Client(), newRequest(t, "POST", "https://login.microsoftonline.com/"+tenant+"/oauth2/v2.0/token",
		strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded"))
}

// getSecret reads a secret's current value through the proxy.
func getSecret(t testing.TB, e *Emulator, token, name string) string {
	t.Helper()
	status, _, body := do(t, e.Client(), newRequest(t, "GET", testVaultURL+"/secrets/"+name+"/?api-version=2026-04-01", nil,
		"Authorization", "Bearer "+token))
	if status != 200 {
		t.Fatalf("get %s: %d %s", name, status, body)
	}
	var b struct{ Value string }
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	return b.Value
}

func TestIMDS(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	noSystem := testSeed(t)
	noSystem.ManagedIdentities.System = nil
	noSystem.Vaults[0].Access = noSystem.Vaults[0].Access[1:] // drop the rule for "system"
	e2 := start(t, Options{Seed: noSystem})
	notFound := `{"error":"invalid_request","error_description":"Identity not found"}`
	tests := []struct {
		name     string
		e        *Emulator
		url      string
		header   []string
		status   int
		body     string // exact body, or "" to check clientID
		clientID string
	}{
		{"no metadata header", e, imdsURL, nil, 400,
			`{"error":"bad_request_102","error_description":"Required metadata header not specified"}`, ""},
		{"azidentity probe", e, "http://169.254.169.254/metadata/identity/oauth2/token", nil, 400,
			`{"error":"bad_request_102","error_description":"Required metadata header not specified"}`, ""},
		{"metadata false", e, imdsURL, []string{"Metadata", "false"}, 400,
			`{"error":"bad_request_102","error_description":"Required metadata header not specified"}`, ""},
		{"system", e, imdsURL, []string{"Metadata", "true"}, 200, "", sysClientID},
		{"by client_id", e, imdsURL + "&client_id=" + strings.ToUpper(billClientID), []string{"Metadata", "true"}, 200, "", billClientID},
		{"by object_id", e, imdsURL + "&object_id=" + billObjectID, []string{"Metadata", "true"}, 200, "", billClientID},
		{"by msi_res_id", e, imdsURL + "&msi_res_id=" + url.QueryEscape(billResource), []string{"Metadata", "true"}, 200, "", billClientID},
		{"unassigned client_id", e, imdsURL + "&client_id=" + ciClientID, []string{"Metadata", "true"}, 400, notFound, ""},
		{"unassigned object_id", e, imdsURL + "&object_id=" + sysClientID, []string{"Metadata", "true"}, 400, notFound, ""},
		{"no system identity", e2, imdsURL, []string{"Metadata", "true"}, 400, notFound, ""},
		{"no system identity, user-assigned works", e2, imdsURL + "&client_id=" + billClientID, []string{"Metadata", "true"}, 200, "", billClientID},
		{"missing resource", e, "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01",
			[]string{"Metadata", "true"}, 400, `{"error":"invalid_request","error_description":"Required query variable 'resource' is missing"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, header, body := do(t, tc.e.Client(), newRequest(t, "GET", tc.url, nil, tc.header...))
			if status != tc.status {
				t.Fatalf("status %d, want %d; body %s", status, tc.status, body)
			}
			if header.Get("Server") != imdsServer || header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("headers %v", header)
			}
			if tc.body != "" && string(body) != tc.body {
				t.Errorf("body %s, want %s", body, tc.body)
			}
			if tc.clientID != "" {
				var tok map[string]any
				_ = json.Unmarshal(body, &tok)
				if tok["client_id"] != tc.clientID || tok["resource"] != "https://vault.azure.net" || tok["token_type"] != "Bearer" {
					t.Errorf("token response %v", tok)
				}
			}
		})
	}
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestIMDSUnavailableThenAvailable(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Now()}
	seed := testSeed(t)
	seed.IMDS.UnavailableFor = 30 * time.Second
	e := start(t, Options{Seed: seed, Now: clock.now})
	req := func() int {
		status, _, _ := do(t, e.Client(), newRequest(t, "GET", imdsURL, nil, "Metadata", "true"))
		return status
	}
	if got := req(); got != http.StatusGone {
		t.Fatalf("at start: %d, want 410", got)
	}
	clock.advance(31 * time.Second)
	if got := req(); got != 200 {
		t.Fatalf("after the window: %d, want 200", got)
	}
	e.Reset()
	if got := req(); got != http.StatusGone {
		t.Fatalf("after Reset: %d, want 410 again", got)
	}
}

func TestIMDSAbsentResetsConnection(t *testing.T) {
	t.Parallel()
	seed := testSeed(t)
	seed.IMDS.Absent = true
	e := start(t, Options{Seed: seed})
	resp, err := e.Client().Do(newRequest(t, "GET", imdsURL, nil, "Metadata", "true"))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("IMDS answered %d; want a network error", resp.StatusCode)
	}
	// Key Vault still works for other credentials.
	if got := getSecret(t, e, ciToken(t, e), "db-password"); got != dbPassword {
		t.Error("vault read failed while IMDS is absent")
	}
}

func TestTokenLifetime(t *testing.T) {
	t.Parallel()
	seed := testSeed(t)
	seed.TokenLifetime = 10 * time.Minute
	e := start(t, Options{Seed: seed})
	_, _, body := do(t, e.Client(), newRequest(t, "GET", imdsURL, nil, "Metadata", "true"))
	var tok map[string]any
	_ = json.Unmarshal(body, &tok)
	if tok["expires_in"] != "600" {
		t.Errorf("IMDS expires_in %v, want \"600\"", tok["expires_in"])
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {ciClientID}, "client_secret": {ciSecret},
		"scope": {"https://vault.azure.net/.default"}}
	_, _, body = postForm(t, e, testTenant, form)
	_ = json.Unmarshal(body, &tok)
	if tok["expires_in"] != float64(600) {
		t.Errorf("Entra expires_in %v, want 600", tok["expires_in"])
	}
	def := start(t, Options{})
	_, _, body = do(t, def.Client(), newRequest(t, "GET", imdsURL, nil, "Metadata", "true"))
	_ = json.Unmarshal(body, &tok)
	if tok["expires_in"] != "86400" {
		t.Errorf("default IMDS expires_in %v, want \"86400\"", tok["expires_in"])
	}
}

func TestExpiredTokenRejectedByVault(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Now()}
	e := start(t, Options{Now: clock.now})
	token := imdsToken(t, e, "")
	clock.advance(25 * time.Hour)
	status, header, body := do(t, e.Client(), newRequest(t, "GET", testVaultURL+"/secrets/db-password/?api-version=2026-04-01", nil,
		"Authorization", "Bearer "+token))
	if status != http.StatusUnauthorized || header.Get("WWW-Authenticate") == "" {
		t.Errorf("expired token: %d %s, want 401 with a challenge", status, body)
	}
	if strings.Contains(string(body), token) {
		t.Error("401 body echoes the token")
	}
}

func TestAppServiceEndpoint(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	header := strings.TrimPrefix(e.AppServiceEnv()[1], "IDENTITY_HEADER=")
	base := e.URL() + appServicePath + "?api-version=2019-08-01&resource=https://vault.azure.net"
	c := &http.Client{} // direct, as App Service clients reach a loopback endpoint
	tests := []struct {
		name, url string
		header    []string
		status    int
		clientID  string
	}{
		{"system", base, []string{"X-IDENTITY-HEADER", header}, 200, sysClientID},
		{"principal_id", base + "&principal_id=" + billObjectID, []string{"X-IDENTITY-HEADER", header}, 200, billClientID},
		{"mi_res_id", base + "&mi_res_id=" + url.QueryEscape(billResource), []string{"X-IDENTITY-HEADER", header}, 200, billClientID},
		{"wrong header", base, []string{"X-IDENTITY-HEADER", "nope"}, 401, ""},
		{"no header", base, nil, 401, ""},
		{"old api version", strings.Replace(base, "2019-08-01", "2017-09-01", 1), []string{"X-IDENTITY-HEADER", header}, 400, ""},
		{"unassigned", base + "&client_id=" + ciClientID, []string{"X-IDENTITY-HEADER", header}, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, _, body := do(t, c, newRequest(t, "GET", tc.url, nil, tc.header...))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.clientID == "" {
				return
			}
			var tok map[string]any
			_ = json.Unmarshal(body, &tok)
			if _, isString := tok["expires_on"].(string); !isString || tok["client_id"] != tc.clientID || tok["token_type"] != "Bearer" {
				t.Errorf("response %v", tok)
			}
		})
	}
}

// TestIMDSCachesTokens: IMDS hands every caller on the machine the token
// it already has for an identity and resource, until half its lifetime is
// gone; Reset empties the cache.
func TestIMDSCachesTokens(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Now().Truncate(time.Second)}
	seed := testSeed(t)
	seed.TokenLifetime = 10 * time.Minute
	e := start(t, Options{Seed: seed, Now: clock.now})
	get := func(url string) (token, expiresIn string) {
		t.Helper()
		status, _, body := do(t, e.Client(), newRequest(t, "GET", url, nil, "Metadata", "true"))
		var tok map[string]string
		if err := json.Unmarshal(body, &tok); err != nil || status != 200 {
			t.Fatalf("IMDS %d: %s", status, body)
		}
		return tok["access_token"], tok["expires_in"]
	}
	first, in := get(imdsURL)
	if in != "600" {
		t.Errorf("first token expires_in %s, want 600", in)
	}
	clock.advance(4 * time.Minute)
	again, in := get(imdsURL)
	if again != first || in != "360" {
		t.Errorf("after 4 of 10 minutes: same token %v, expires_in %s; want the cached token with 360 left", again == first, in)
	}
	if other, _ := get(strings.Replace(imdsURL, "vault.azure.net", "management.azure.com", 1)); other == first {
		t.Error("a token for another resource is the cached Key Vault token")
	}
	clock.advance(2 * time.Minute)
	fresh, in := get(imdsURL)
	if fresh == first || in != "600" {
		t.Errorf("after 6 of 10 minutes: new token %v, expires_in %s; want a new token with 600", fresh != first, in)
	}
	e.Reset()
	clock.advance(time.Second) // tokens minted in the same second are identical
	if afterReset, _ := get(imdsURL); afterReset == fresh {
		t.Error("Reset kept the cached token")
	}
}
