package emulator

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawConnect sends CONNECT target to the emulator and returns the response.
func rawConnect(t *testing.T, e *Emulator, target string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(e.URL(), "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_, err = io.WriteString(conn, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	return resp, conn, br
}

func TestConnectRefusesOtherHosts(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	for _, target := range []string{"example.com:443", "contoso.vault.azure.net:80", "management.azure.com:443",
		"graph.microsoft.com:443", "a.b.vault.azure.net:443", "127.0.0.1:22"} {
		t.Run(target, func(t *testing.T) {
			resp, _, _ := rawConnect(t, e, target)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("status %d, want 502", resp.StatusCode)
			}
			if !strings.Contains(string(body), target) || !strings.Contains(string(body), "nothing is forwarded") {
				t.Errorf("body %q does not name %s and say nothing is forwarded", body, target)
			}
		})
	}
	if got := e.Stats().Kinds[KindRefused]; got != 6 {
		t.Errorf("refused count %d, want 6", got)
	}
}

func TestConnectTerminatesTLSForAzureHosts(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	for _, host := range []string{testVaultHost, "contoso.vault.azure.cn", "contoso.vault.usgovcloudapi.net",
		"login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us", "login.partner.microsoftonline.cn"} {
		t.Run(host, func(t *testing.T) {
			resp, conn, br := rawConnect(t, e, host+":443")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("CONNECT status %d", resp.StatusCode)
			}
			if br.Buffered() != 0 {
				t.Fatal("unexpected bytes after 200")
			}
			tc := tls.Client(conn, &tls.Config{ServerName: host, RootCAs: e.CAPool()})
			if err := tc.Handshake(); err != nil {
				t.Fatalf("TLS handshake with emulator CA: %v", err)
			}
			if got := tc.ConnectionState().NegotiatedProtocol; got != "" && got != "http/1.1" {
				t.Errorf("ALPN %q, want http/1.1", got)
			}
		})
	}
}

func TestAbsoluteRequestsToOtherHostsAreRefused(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	c := e.Client()
	for _, u := range []string{"http://example.com/", "http://169.254.169.254:8080/metadata/identity/oauth2/token",
		"http://login.microsoftonline.com/common/discovery/instance"} {
		status, _, body := do(t, c, newRequest(t, "GET", u, nil, "Metadata", "true"))
		if status != http.StatusBadGateway || !strings.Contains(string(body), "refusing GET") {
			t.Errorf("%s: status %d body %q, want 502 naming the host", u, status, body)
		}
	}
	if _, err := c.Get("https://example.com/"); err == nil {
		t.Error("https to a non-Azure host succeeded; want a proxy error")
	}
}

func TestAdminEndpoints(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	c := e.Client()
	status, _, body := do(t, c, newRequest(t, "GET", e.URL()+"/_emulator/ca.pem", nil))
	if status != 200 || string(body) != string(e.CAPEM()) {
		t.Errorf("ca.pem: status %d, body matches CAPEM: %v", status, string(body) == string(e.CAPEM()))
	}
	status, _, body = do(t, c, newRequest(t, "GET", e.URL()+"/_emulator/federated-token?sp=wl", nil))
	if status != 200 || strings.Count(string(body), ".") != 2 {
		t.Errorf("federated-token: status %d, body is not a JWT", status)
	}
	status, _, _ = do(t, c, newRequest(t, "GET", e.URL()+"/_emulator/federated-token?sp=ci", nil))
	if status != http.StatusNotFound {
		t.Errorf("federated-token for an SP without federation: status %d, want 404", status)
	}
	status, _, _ = do(t, c, newRequest(t, "GET", e.URL()+"/_emulator/reset", nil))
	if status != http.StatusMethodNotAllowed {
		t.Errorf("GET reset: status %d, want 405", status)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(e.URL(), "http://"))
	status, _, body = do(t, c, newRequest(t, "GET", "http://localhost:"+port+"/_emulator/health", nil))
	if status != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("health through the proxy by name: %d %q", status, body)
	}
	status, _, body = do(t, c, newRequest(t, "GET", e.URL()+"/nope", nil))
	if status != http.StatusNotFound || !strings.Contains(string(body), "/_emulator/") {
		t.Errorf("unknown path: status %d body %q", status, body)
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	env := map[string]string{}
	for _, kv := range append(e.Env(), e.AppServiceEnv()...) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for _, k := range []string{"HTTPS_PROXY", "HTTP_PROXY", "AGENT_EMULATOR_URL"} {
		if env[k] != e.URL() {
			t.Errorf("%s=%q, want %q", k, env[k], e.URL())
		}
	}
	if env["SSL_CERT_FILE"] != e.CAFile() || env["REQUESTS_CA_BUNDLE"] != e.CAFile() {
		t.Errorf("CA variables %q %q, want %q", env["SSL_CERT_FILE"], env["REQUESTS_CA_BUNDLE"], e.CAFile())
	}
	if !strings.Contains(env["NO_PROXY"], "127.0.0.1") {
		t.Errorf("NO_PROXY=%q lacks 127.0.0.1", env["NO_PROXY"])
	}
	if env["IDENTITY_ENDPOINT"] != e.URL()+"/msi/token" || len(env["IDENTITY_HEADER"]) < 16 {
		t.Errorf("App Service env %q %q", env["IDENTITY_ENDPOINT"], env["IDENTITY_HEADER"])
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	t.Parallel()
	_, err := Start(t.Context(), Options{Listen: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Start on 0.0.0.0: %v, want a loopback error", err)
	}
}

func TestStatsAndReset(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	c := e.Client()
	token := imdsToken(t, e, "")
	// A set through the real API, then Reset restores the seeded value.
	put := newRequest(t, "PUT", testVaultURL+"/secrets/db-password?api-version=2026-04-01",
		strings.NewReader(`{"value":"changed"}`), "Authorization", "Bearer "+ciToken(t, e), "Content-Type", "application/json")
	if status, _, body := do(t, c, put); status != 200 {
		t.Fatalf("set: %d %s", status, body)
	}
	if got := getSecret(t, e, token, "db-password"); got != "changed" {
		t.Fatalf("after set: %q", got)
	}
	st := e.Stats()
	if st.Kinds[KindIMDS] != 1 || st.Kinds[KindEntraToken] != 1 || st.Kinds["set"] != 1 || st.Kinds["get"] != 1 {
		t.Errorf("kinds %v", st.Kinds)
	}
	if st.Vaults["contoso"] != 2 || st.Identities["system"] != 2 || st.Identities["ci"] != 2 || st.Statuses["200"] != 4 {
		t.Errorf("stats %+v", st)
	}
	_, _, body := do(t, c, newRequest(t, "GET", e.URL()+"/_emulator/stats", nil))
	var viaHTTP Stats
	if err := json.Unmarshal(body, &viaHTTP); err != nil || viaHTTP.Total != st.Total || viaHTTP.Kinds["set"] != 1 {
		t.Errorf("/_emulator/stats %s (err %v), want %+v", body, err, st)
	}
	if status, _, _ := do(t, c, newRequest(t, "POST", e.URL()+"/_emulator/reset", nil)); status != http.StatusNoContent {
		t.Fatalf("reset status %d", status)
	}
	if st := e.Stats(); st.Total != 0 || len(st.Kinds) != 0 {
		t.Errorf("after reset: %+v", st)
	}
	if got := getSecret(t, e, token, "db-password"); got != dbPassword {
		t.Errorf("after reset the seeded value is not back")
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	e := start(t, Options{Latency: 150 * time.Millisecond})
	begin := time.Now()
	imdsToken(t, e, "")
	if d := time.Since(begin); d < 150*time.Millisecond {
		t.Errorf("IMDS answered in %v, want >= 150ms", d)
	}
	token := imdsToken(t, e, "")
	begin = time.Now()
	getSecret(t, e, token, "db-password")
	if d := time.Since(begin); d < 150*time.Millisecond {
		t.Errorf("Key Vault answered in %v, want >= 150ms", d)
	}
}
