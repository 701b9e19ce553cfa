package emulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// The official clients read HTTPS_PROXY and SSL_CERT_FILE once per process
// and MSAL caches managed-identity tokens process-wide, so each client
// scenario runs in a child process: this test binary, re-executed with
// EMULATOR_TEST_HELPER set. The child uses only its environment (no custom
// transport, no DisableInstanceDiscovery, no challenge verification
// override) and prints "OK key=value..." or "ERR message".
func TestMain(m *testing.M) {
	if os.Getenv("EMULATOR_TEST_HELPER") != "" {
		os.Exit(helperMain())
	}
	os.Exit(m.Run())
}

func helperMain() int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := helperScenario(ctx)
	if err != nil {
		fmt.Printf("ERR %s\n", strings.ReplaceAll(err.Error(), "\n", " | "))
		return 0
	}
	fmt.Printf("OK %s\n", out)
	return 0
}

// helperScenario builds the credential HELPER_CRED names and performs
// HELPER_ACTION: "token" (print the token's claims) or "get" (GetSecret).
func helperScenario(ctx context.Context) (string, error) {
	cred, err := helperCredential()
	if err != nil {
		return "", err
	}
	switch os.Getenv("HELPER_ACTION") {
	case "token":
		tk, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
		if err != nil {
			return "", err
		}
		return tokenSummary(tk.Token)
	case "get":
		c, err := azsecrets.NewClient(os.Getenv("HELPER_VAULT"), cred, nil)
		if err != nil {
			return "", err
		}
		resp, err := c.GetSecret(ctx, os.Getenv("HELPER_SECRET"), "", nil)
		if err != nil {
			return "", err
		}
		// Only the test's fake secret values are ever printed.
		return fmt.Sprintf("value=%s", *resp.Value), nil
	}
	return "", fmt.Errorf("unknown HELPER_ACTION")
}

func helperCredential() (azcore.TokenCredential, error) {
	switch os.Getenv("HELPER_CRED") {
	case "mi":
		var opts azidentity.ManagedIdentityCredentialOptions
		id := os.Getenv("HELPER_ID")
		switch os.Getenv("HELPER_ID_KIND") {
		case "client":
			opts.ID = azidentity.ClientID(id)
		case "object":
			opts.ID = azidentity.ObjectID(id)
		case "resource":
			opts.ID = azidentity.ResourceID(id)
		}
		return azidentity.NewManagedIdentityCredential(&opts)
	case "secret":
		return azidentity.NewClientSecretCredential(os.Getenv("HELPER_TENANT"), os.Getenv("HELPER_CLIENT_ID"),
			os.Getenv("HELPER_CLIENT_SECRET"), nil)
	case "cert":
		data, err := os.ReadFile(os.Getenv("HELPER_CERT_FILE"))
		if err != nil {
			return nil, err
		}
		certs, key, err := azidentity.ParseCertificates(data, nil)
		if err != nil {
			return nil, err
		}
		return azidentity.NewClientCertificateCredential(os.Getenv("HELPER_TENANT"), os.Getenv("HELPER_CLIENT_ID"),
			certs, key, nil)
	case "workload":
		return azidentity.NewWorkloadIdentityCredential(nil)
	case "default":
		return azidentity.NewDefaultAzureCredential(nil)
	}
	return nil, fmt.Errorf("unknown HELPER_CRED")
}

// tokenSummary decodes (without verifying) a JWT's aud, appid and oid.
func tokenSummary(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c struct{ Aud, Appid, Oid, Tid string }
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", err
	}
	return fmt.Sprintf("aud=%s appid=%s oid=%s tid=%s", c.Aud, c.Appid, c.Oid, c.Tid), nil
}

// runHelper runs one scenario in a child process with only env and the
// emulator's variables, and returns its single output line.
func runHelper(t *testing.T, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append([]string{"EMULATOR_TEST_HELPER=1", "HOME=" + t.TempDir()}, env...)
	if d := os.Getenv("GOCOVERDIR"); d != "" {
		cmd.Env = append(cmd.Env, "GOCOVERDIR="+d)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	line := strings.TrimSpace(stdout.String())
	if i := strings.LastIndex(line, "\n"); i >= 0 {
		line = line[i+1:]
	}
	return line
}
