package kvserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func decodeBundle(t testing.TB, resp *http.Response) map[string]any {
	t.Helper()
	var b map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&b))
	return b
}

// BenchmarkGetSecret measures the handler alone (no TLS, no network) for
// an authenticated GET of the current version, in parallel.
func BenchmarkGetSecret(b *testing.B) {
	cfg := baseConfig()
	srv, err := New(cfg)
	require.NoError(b, err)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "https://contoso.vault.azure.net/secrets/db-password/?api-version=2026-04-01", nil)
		req.Header.Set("Authorization", "Bearer "+readerToken)
		for pb.Next() {
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// BenchmarkGetSecretTLS measures a full azsecrets-like round trip over TLS
// on loopback with keep-alive, in parallel.
func BenchmarkGetSecretTLS(b *testing.B) {
	e := newEnv(b, nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", contosoURL+"/secrets/db-password/?api-version=2026-04-01", nil)
			req.Header.Set("Authorization", "Bearer "+readerToken)
			resp, err := e.http.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var v map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&v)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
