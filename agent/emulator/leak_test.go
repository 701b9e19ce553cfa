package emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// TestLogsNeverContainSecrets runs successful and failing requests of
// every kind with a debug logger and checks that no secret value, client
// secret, token, assertion or identity header reached the log.
func TestLogsNeverContainSecrets(t *testing.T) {
	t.Parallel()
	logger, logs := debugLogger()
	e := start(t, Options{Logger: logger})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	secrets := []string{dbPassword, ciSecret, "canary-set-value-77e1"}

	// Managed identity, App Service, client secret (good and bad).
	secrets = append(secrets, imdsToken(t, e, ""), ciToken(t, e))
	header := strings.TrimPrefix(e.AppServiceEnv()[1], "IDENTITY_HEADER=")
	secrets = append(secrets, header)
	do(t, &http.Client{}, newRequest(t, "GET", e.URL()+appServicePath+"?api-version=2019-08-01&resource=https://vault.azure.net",
		nil, "X-IDENTITY-HEADER", header))
	do(t, &http.Client{}, newRequest(t, "GET", e.URL()+appServicePath+"?api-version=2019-08-01&resource=x", nil,
		"X-IDENTITY-HEADER", "wrong-header-canary"))
	secrets = append(secrets, "wrong-header-canary")
	bad := url.Values{"grant_type": {"client_credentials"}, "client_id": {ciClientID}, "client_secret": {"wrong-secret-canary"},
		"scope": {"https://vault.azure.net/.default"}}
	postForm(t, e, testTenant, bad)
	secrets = append(secrets, "wrong-secret-canary")

	// Assertions: a good certificate one, an expired one, a federated one.
	c := testCerts(t)
	good := assertion(t, certKey(t, c[0]), c[0].cert, stdB64, nil)
	expired := assertion(t, certKey(t, c[0]), c[0].cert, stdB64, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	fed, _ := e.FederatedToken("wl")
	for _, a := range []struct{ client, jwt string }{{certClientID, good}, {certClientID, expired}, {wlClientID, fed}} {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {a.client}, "client_assertion_type": {jwtBearer},
			"client_assertion": {a.jwt}, "scope": {"https://vault.azure.net/.default"}}
		_, _, body := postForm(t, e, testTenant, form)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal(body, &tok)
		secrets = append(secrets, a.jwt)
		if tok.AccessToken != "" {
			secrets = append(secrets, tok.AccessToken)
		}
	}

	// Key Vault: get, set, a bad token, errors.
	kv := spClient(t, e, testVaultURL, ciSecret, cloud.AzurePublic)
	if _, err := kv.GetSecret(ctx, "db-password", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.SetSecret(ctx, "new", azsecrets.SetSecretParameters{Value: toPtr("canary-set-value-77e1")}, nil); err != nil {
		t.Fatal(err)
	}
	_, _ = kv.GetSecret(ctx, "disabled", "", nil)
	do(t, e.Client(), newRequest(t, "GET", testVaultURL+"/secrets/db-password/?api-version=2026-04-01", nil,
		"Authorization", "Bearer not-a-jwt-canary"))
	secrets = append(secrets, "not-a-jwt-canary")

	out := logs.String()
	if !strings.Contains(out, "level=DEBUG") {
		t.Fatal("no debug logs were written; the test would prove nothing")
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("log contains a secret or token (%d chars, starts %q)", len(s), s[:min(6, len(s))])
		}
	}
	// Tokens are JWTs: no log line may carry a JWT-looking string either.
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "eyJ") {
			t.Errorf("log line may contain a JWT: %.120s", line)
		}
	}
}
