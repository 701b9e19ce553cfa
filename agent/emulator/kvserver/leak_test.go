package kvserver

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kv-agent/agent/agent/internal/syncbuf"
)

// TestNoSecretLeaks drives success and error paths with a debug logger and
// checks that no secret value or token appears in the logs, and none in the
// error answers.
func TestNoSecretLeaks(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	const badToken = "leaky-token-XYZ"
	e := newEnv(t, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		cfg.Authenticate = func(token string) (Caller, string, error) {
			if strings.HasPrefix(token, "test:") {
				return testAuthenticate(token)
			}
			return Caller{}, "", fmt.Errorf("cannot parse token %q", token) // a careless callback
		}
		cfg.Vaults[0].Limit = Limit{Requests: 9} // the last scenario is the 10th authenticated request
	})
	secrets := []string{"hunter1-old", "hunter2-current", "disabled-value", "leaky-value-123", "leaky-json-456", badToken, readerToken, writerToken}

	scenarios := []struct {
		method, path, token, body string
		errorAnswer               bool
	}{
		{"GET", "/secrets/db-password/", readerToken, "", false},
		{"GET", "/secrets/db-password/", badToken, "", true},
		{"GET", "/secrets/db-password/", "", "", true},
		{"GET", "/secrets/off", readerToken, "", true},
		{"GET", "/secrets/db-password", "test:nobody:https://vault.azure.net", "", true},
		{"GET", "/secrets/db-password", "test:reader:https://wrong.example", "", true},
		{"PUT", "/secrets/new", writerToken, `{"value":"leaky-value-123"}`, false},
		{"PUT", "/secrets/new", writerToken, `{"value":"leaky-json-456"`, true},
		{"PUT", "/secrets/new", writerToken, `{"value":["leaky-json-456"]}`, true},
		{"PUT", "/secrets/new", readerToken, `{"value":"leaky-value-123"}`, true},
		{"PATCH", "/secrets/new/", writerToken, `{"tags":"leaky-json-456"}`, true},
		{"GET", "/secrets", readerToken, "", false},
		{"GET", "/secrets/db-password", readerToken, "", true}, // over the limit: 429
	}
	for i, sc := range scenarios {
		resp := e.do(t, sc.method, contosoURL+sc.path+apiQ, sc.token, sc.body)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		if sc.errorAnswer {
			require.GreaterOrEqual(t, resp.StatusCode, 400, "scenario %d", i)
			for _, s := range secrets {
				assert.NotContains(t, string(body), s, "scenario %d answer", i)
				assert.NotContains(t, resp.Header.Get("WWW-Authenticate"), s)
			}
		}
	}
	out := logs.String()
	require.Equal(t, len(scenarios), strings.Count(out, "key vault request"), "one debug line per request")
	for _, s := range secrets {
		assert.NotContains(t, out, s)
	}
}
