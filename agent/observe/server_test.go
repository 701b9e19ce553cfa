package observe_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/observe"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := observe.New(func() time.Time { return now })
	var notReady error = errors.New("first render not done")
	srv, err := observe.Listen("127.0.0.1:0", observe.Handler(m, func() error { return notReady }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, slog.New(slog.DiscardHandler)) }()
	base := "http://" + srv.Addr()

	exp := now.Add(48 * time.Hour)
	m.SetSecrets([]observe.SecretInfo{
		{Name: "db", Vault: "main", Version: "v1", Created: now.Add(-time.Hour), Expires: &exp},
		{Name: "api", Vault: "main", Version: "v2", Created: now.Add(-90 * time.Second)},
	})
	m.KeyVaultRequest("list", 200)
	m.KeyVaultRequest("list", 200)
	m.KeyVaultRequest("get", 429)
	m.CheckDone(true, now)
	m.CheckDone(false, now)
	m.FilesWritten(2)
	m.Command(false)

	tests := []struct {
		name, path string
		ready      error
		code       int
		want       []string
	}{
		{"healthz", "/healthz", nil, 200, []string{"ok"}},
		{"readyz before the first render", "/readyz", notReady, 503, []string{"not ready: first render not done"}},
		{"readyz when ready", "/readyz", nil, 200, []string{"ready"}},
		{"metrics", "/metrics", nil, 200, []string{
			`agent_keyvault_requests_total{code="200",operation="list"} 2`,
			`agent_keyvault_requests_total{code="429",operation="get"} 1`,
			"agent_checks_total 2", "agent_check_errors_total 1",
			`agent_secret_version_age_seconds{secret="db",vault="main"} 3600`,
			`agent_secret_version_age_seconds{secret="api",vault="main"} 90`,
			`agent_secret_expiry_timestamp_seconds{secret="db",vault="main"} 1.767495845e+09`,
			"agent_files_written_total 2", `agent_onchange_commands_total{result="failed"} 1`,
			"agent_last_success_timestamp_seconds 1.767323045e+09", "process_resident_memory_bytes"}},
	}
	for _, tc := range tests { // sequential: they share the readiness variable
		t.Run(tc.name, func(t *testing.T) {
			notReady = tc.ready
			code, body := get(t, base+tc.path)
			if code != tc.code {
				t.Errorf("status %d, want %d: %s", code, tc.code, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
		})
	}
	if _, body := get(t, base+"/metrics"); strings.Contains(body, `agent_secret_expiry_timestamp_seconds{secret="api"`) {
		t.Error("a secret without expiry has an expiry metric")
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
}
