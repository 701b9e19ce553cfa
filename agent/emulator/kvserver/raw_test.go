package kvserver

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	apiQ          = "?api-version=2026-04-01"
	readerToken   = "test:reader:https://vault.azure.net"
	writerToken   = "test:writer:https://vault.azure.net"
	wantChallenge = `Bearer authorization="https://login.microsoftonline.com/` + testTenant + `", resource="https://vault.azure.net"`
)

func TestRawErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		name, method, url, token, body string
		status                         int
		code, inner, msgPart           string
		challenge                      string // expected WWW-Authenticate, "" for none
	}{
		{name: "no token", method: "GET", url: contosoURL + "/secrets/db-password/" + apiQ,
			status: 401, code: "Unauthorized", msgPart: "AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token.", challenge: wantChallenge},
		{name: "no token on cn suffix", method: "GET", url: "https://contoso.vault.azure.cn/secrets" + apiQ,
			status: 401, code: "Unauthorized", msgPart: "AKV10000",
			challenge: `Bearer authorization="https://login.chinacloudapi.cn/` + testTenant + `", resource="https://vault.azure.cn"`},
		{name: "basic auth is no token", method: "GET", url: contosoURL + "/secrets" + apiQ, token: "-basic",
			status: 401, code: "Unauthorized", msgPart: "AKV10000", challenge: wantChallenge},
		{name: "bad token", method: "GET", url: contosoURL + "/secrets/db-password" + apiQ, token: "garbage",
			status: 401, code: "Unauthorized", msgPart: "token signature is invalid", challenge: wantChallenge},
		{name: "wrong audience", method: "GET", url: contosoURL + "/secrets/db-password" + apiQ, token: "test:reader:https://management.azure.com/",
			status: 401, code: "Unauthorized", msgPart: "AKV10022: Invalid audience. Expected https://vault.azure.net, found: https://management.azure.com/.", challenge: wantChallenge},
		{name: "public token on cn vault", method: "GET", url: "https://contoso.vault.azure.cn/secrets/db-password" + apiQ, token: readerToken,
			status: 401, code: "Unauthorized", msgPart: "AKV10022",
			challenge: `Bearer authorization="https://login.chinacloudapi.cn/` + testTenant + `", resource="https://vault.azure.cn"`},
		{name: "missing api-version", method: "GET", url: contosoURL + "/secrets/db-password", token: readerToken,
			status: 400, code: "BadParameter", msgPart: "api-version"},
		{name: "unknown vault", method: "GET", url: "https://fabrikam.vault.azure.net/secrets" + apiQ, token: readerToken,
			status: 404, code: "VaultNotFound", msgPart: "fabrikam.vault.azure.net"},
		{name: "unknown route", method: "GET", url: contosoURL + "/keys/k" + apiQ, token: readerToken,
			status: 404, code: "NotFound"},
		{name: "too deep", method: "GET", url: contosoURL + "/secrets/a/b/c" + apiQ, token: readerToken,
			status: 404, code: "NotFound"},
		{name: "delete not supported", method: "DELETE", url: contosoURL + "/secrets/db-password" + apiQ, token: writerToken,
			status: 405, code: "MethodNotAllowed"},
		{name: "invalid secret name", method: "GET", url: contosoURL + "/secrets/bad_name" + apiQ, token: readerToken,
			status: 400, code: "BadParameter", msgPart: "bad_name"},
		{name: "maxresults 0", method: "GET", url: contosoURL + "/secrets" + apiQ + "&maxresults=0", token: readerToken,
			status: 400, code: "BadParameter", msgPart: "maxresults"},
		{name: "maxresults 26", method: "GET", url: contosoURL + "/secrets/db-password/versions" + apiQ + "&maxresults=26", token: readerToken,
			status: 400, code: "BadParameter", msgPart: "maxresults"},
		{name: "bad skiptoken", method: "GET", url: contosoURL + "/secrets" + apiQ + "&$skiptoken=!!!", token: readerToken,
			status: 400, code: "BadParameter", msgPart: "skiptoken"},
		{name: "set with invalid json", method: "PUT", url: contosoURL + "/secrets/x" + apiQ, token: writerToken, body: `{"value":`,
			status: 400, code: "BadParameter"},
		{name: "set without value", method: "PUT", url: contosoURL + "/secrets/x" + apiQ, token: writerToken, body: `{"contentType":"a"}`,
			status: 400, code: "BadParameter", msgPart: "'value'"},
		{name: "set with wrong types", method: "PUT", url: contosoURL + "/secrets/x" + apiQ, token: writerToken, body: `{"value":1}`,
			status: 400, code: "BadParameter"},
		{name: "update unknown version", method: "PATCH", url: contosoURL + "/secrets/db-password/0123456789abcdef0123456789abcdef" + apiQ, token: writerToken, body: `{}`,
			status: 404, code: "SecretNotFound", msgPart: "A secret with (name/id) db-password/0123456789abcdef0123456789abcdef was not found in this key vault."},
		{name: "versions of unknown secret", method: "GET", url: contosoURL + "/secrets/nope/versions" + apiQ, token: readerToken,
			status: 404, code: "SecretNotFound", msgPart: "(name/id) nope "},
		{name: "disabled", method: "GET", url: contosoURL + "/secrets/off/" + apiQ, token: readerToken,
			status: 403, code: "Forbidden", inner: "SecretDisabled", msgPart: "Operation get is not allowed on a disabled secret."},
		{name: "forbidden update", method: "PATCH", url: contosoURL + "/secrets/off/" + apiQ, token: readerToken, body: `{}`,
			status: 403, code: "Forbidden", inner: "ForbiddenByRbac", msgPart: "Microsoft.KeyVault/vaults/secrets/update/action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			require.NoError(t, err)
			switch {
			case tt.token == "-basic":
				req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
			case tt.token != "":
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := e.http.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.challenge, resp.Header.Get("WWW-Authenticate"))
			assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
			b := decodeErrorBody(t, resp.Body)
			assert.Equal(t, tt.code, b.Error.Code)
			assert.NotEmpty(t, b.Error.Message)
			assert.Contains(t, b.Error.Message, tt.msgPart)
			if tt.inner == "" {
				assert.Nil(t, b.Error.InnerError)
			} else if assert.NotNil(t, b.Error.InnerError) {
				assert.Equal(t, tt.inner, b.Error.InnerError.Code)
			}
			if tt.status == 405 {
				assert.Equal(t, "GET, PUT, PATCH", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestRawHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, token := range []string{"", readerToken} {
		req, err := http.NewRequest("GET", contosoURL+"/secrets/db-password/"+apiQ, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("x-ms-client-request-id", "my-request-1")
		resp, err := e.http.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		h := resp.Header
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, h.Get("x-ms-request-id"))
		assert.Equal(t, "my-request-1", h.Get("x-ms-client-request-id"))
		assert.Equal(t, "no-cache", h.Get("Cache-Control"))
		assert.Equal(t, "conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;", h.Get("x-ms-keyvault-network-info"))
		assert.NotEmpty(t, h.Get("x-ms-keyvault-region"))
		assert.NotEmpty(t, h.Get("x-ms-keyvault-service-version"))
		assert.Equal(t, "max-age=31536000;includeSubDomains", h.Get("Strict-Transport-Security"))
		assert.Equal(t, "application/json; charset=utf-8", h.Get("Content-Type"))
	}
}

func TestRawPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	url := contosoURL + "/secrets" + apiQ + "&maxresults=2"
	var ids []string
	for pages := 0; url != ""; pages++ {
		require.Less(t, pages, 5, "paging must end")
		resp := e.do(t, "GET", url, readerToken, "")
		require.Equal(t, 200, resp.StatusCode)
		var page struct {
			Value    []map[string]any `json:"value"`
			NextLink *string          `json:"nextLink"`
		}
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &page))
		require.Contains(t, string(raw), `"nextLink":`, "nextLink is always present, null on the last page")
		for _, it := range page.Value {
			assert.NotContains(t, it, "value", "list items never carry the value")
			ids = append(ids, it["id"].(string))
		}
		url = ""
		if page.NextLink != nil {
			url = *page.NextLink
			assert.True(t, strings.HasPrefix(url, contosoURL+"/secrets?api-version=2026-04-01&$skiptoken="), url)
			assert.True(t, strings.HasSuffix(url, "&maxresults=2"), url)
		}
	}
	assert.Equal(t, []string{
		contosoURL + "/secrets/db-password", contosoURL + "/secrets/off", contosoURL + "/secrets/web-tls",
	}, ids)
}

func TestRawThrottle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter time.Duration
		want       string
	}{
		{"without retry-after", 0, ""},
		{"with retry-after rounded up", 1500 * time.Millisecond, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(cfg *Config) {
				cfg.Vaults[0].Limit = Limit{Requests: 2, RetryAfter: tt.retryAfter}
			})
			get := func() *http.Response {
				return e.do(t, "GET", contosoURL+"/secrets/db-password"+apiQ, readerToken, "")
			}
			// The challenge does not count toward the limit.
			assert.Equal(t, 401, e.do(t, "GET", contosoURL+"/secrets/db-password"+apiQ, "", "").StatusCode)
			assert.Equal(t, 200, get().StatusCode)
			assert.Equal(t, 200, get().StatusCode)
			for range 3 {
				resp := get()
				require.Equal(t, 429, resp.StatusCode)
				_, present := resp.Header["Retry-After"]
				assert.Equal(t, tt.want != "", present)
				assert.Equal(t, tt.want, resp.Header.Get("Retry-After"))
				b := decodeErrorBody(t, resp.Body)
				assert.Equal(t, "Throttled", b.Error.Code)
				assert.Equal(t, "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached", b.Error.Message)
			}
			e.clock.Add(10 * time.Second)
			// Throttled requests did not count: the new window allows two again.
			assert.Equal(t, 200, get().StatusCode)
			assert.Equal(t, 200, get().StatusCode)
			assert.Equal(t, 429, get().StatusCode)
			e.srv.Reset()
			assert.Equal(t, 200, get().StatusCode, "reset clears the counters")
		})
	}
}

func TestRawFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind   string
		status int
		code   string
	}{
		{"500", 500, "InternalServerError"},
		{"503", 503, "ServiceUnavailable"},
		{"429", 429, "Throttled"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(cfg *Config) { cfg.Vaults[0].Faults = Faults{Rate: 1, Kinds: []string{tt.kind}} })
			resp := e.do(t, "GET", contosoURL+"/secrets/db-password"+apiQ, readerToken, "")
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.code, decodeErrorBody(t, resp.Body).Error.Code)
			assert.Equal(t, 401, e.do(t, "GET", contosoURL+"/secrets"+apiQ, "", "").StatusCode, "no fault on the challenge")
		})
	}
	t.Run("rate is honoured and seedable", func(t *testing.T) {
		t.Parallel()
		run := func() []int {
			e := newEnv(t, func(cfg *Config) {
				cfg.Vaults[0].Faults = Faults{Rate: 0.3, Kinds: []string{"500", "503"}}
				cfg.Rand = rand.New(rand.NewPCG(7, 11))
			})
			var statuses []int
			for range 200 {
				statuses = append(statuses, e.do(t, "GET", contosoURL+"/secrets/db-password"+apiQ, readerToken, "").StatusCode)
			}
			return statuses
		}
		a, b := run(), run()
		assert.Equal(t, a, b, "same seed, same faults")
		faults := 0
		for _, s := range a {
			if s != 200 {
				faults++
			}
		}
		assert.InDelta(t, 60, faults, 25)
	})
}

func TestRawSetAndPatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	resp := e.do(t, "PUT", contosoURL+"/secrets/new-one"+apiQ, writerToken,
		`{"value":"s3cr3t","contentType":"text/plain","tags":{"a":"b"},"attributes":{"enabled":true,"nbf":1893459661,"exp":2208992461}}`)
	require.Equal(t, 200, resp.StatusCode)
	var set map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
	assert.Equal(t, "s3cr3t", set["value"])
	attrs := set["attributes"].(map[string]any)
	assert.Equal(t, 1893459661.0, attrs["nbf"])
	assert.Equal(t, 2208992461.0, attrs["exp"])

	// Not-yet-valid secrets are served; the client decides from nbf.
	resp = e.do(t, "GET", contosoURL+"/secrets/new-one"+apiQ, readerToken, "")
	assert.Equal(t, 200, resp.StatusCode)

	resp = e.do(t, "PATCH", contosoURL+"/secrets/new-one"+apiQ, writerToken, `{"contentType":"application/json","attributes":{"exp":2300000000}}`)
	require.Equal(t, 200, resp.StatusCode)
	var upd map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&upd))
	assert.NotContains(t, upd, "value")
	assert.Equal(t, "application/json", upd["contentType"])
	assert.Equal(t, map[string]any{"a": "b"}, upd["tags"])
	assert.Equal(t, 2300000000.0, upd["attributes"].(map[string]any)["exp"])
	assert.Equal(t, 1893459661.0, upd["attributes"].(map[string]any)["nbf"])
	assert.Equal(t, set["id"], upd["id"])
}

func TestReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	get := func(name string) (int, string) {
		resp := e.do(t, "GET", contosoURL+"/secrets/"+name+apiQ, readerToken, "")
		var b map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&b)
		v, _ := b["value"].(string)
		return resp.StatusCode, v
	}
	require.Equal(t, 200, e.do(t, "PUT", contosoURL+"/secrets/db-password"+apiQ, writerToken, `{"value":"changed"}`).StatusCode)
	require.Equal(t, 200, e.do(t, "PUT", contosoURL+"/secrets/added"+apiQ, writerToken, `{"value":"added"}`).StatusCode)
	require.Equal(t, 200, e.do(t, "PATCH", contosoURL+"/secrets/off/"+apiQ, writerToken, `{"attributes":{"enabled":true}}`).StatusCode)
	status, v := get("db-password")
	require.Equal(t, 200, status)
	require.Equal(t, "changed", v)

	e.srv.Reset()
	status, v = get("db-password")
	assert.Equal(t, 200, status)
	assert.Equal(t, "hunter2-current", v)
	status, _ = get("added")
	assert.Equal(t, 404, status)
	status, _ = get("off")
	assert.Equal(t, 403, status)
}

func TestConcurrentSetAndGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				name := fmt.Sprintf("c-%d", i%5)
				if w%2 == 0 {
					body := fmt.Sprintf(`{"value":"v-%d-%d"}`, w, i)
					assert.Equal(t, 200, e.do(t, "PUT", contosoURL+"/secrets/"+name+apiQ, writerToken, body).StatusCode)
				} else {
					status := e.do(t, "GET", contosoURL+"/secrets/"+name+apiQ, readerToken, "").StatusCode
					assert.Contains(t, []int{200, 404}, status)
					assert.Equal(t, 200, e.do(t, "GET", contosoURL+"/secrets"+apiQ, readerToken, "").StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	for i := range 5 {
		resp := e.do(t, "GET", contosoURL+fmt.Sprintf("/secrets/c-%d/versions", i)+apiQ, readerToken, "")
		var page struct{ Value []any }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
		n += len(page.Value)
	}
	assert.Equal(t, 50, n, "every set made exactly one version")
}
