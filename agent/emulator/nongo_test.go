package emulator

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// toolEnv is the emulator's environment plus what finding and running a
// tool needs (PATH, HOME), and nothing else.
func toolEnv(e *Emulator) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, e.Env()...)
}

// TestPythonRequests fetches a token from IMDS and a secret from Key Vault
// with Python's requests library and only the emulator's environment.
// Skipped where python3 with requests is not installed.
func TestPythonRequests(t *testing.T) {
	t.Parallel()
	if exec.Command("python3", "-c", "import requests").Run() != nil {
		t.Skip("python3 with requests is not installed")
	}
	e := start(t, Options{})
	script := `
import requests
r = requests.get("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net",
                 headers={"Metadata": "true"}, timeout=10)
tok = r.json()["access_token"]
r = requests.get("https://contoso.vault.azure.net/secrets/db-password/?api-version=2026-04-01",
                 headers={"Authorization": "Bearer " + tok}, timeout=10)
print(r.status_code, r.json()["value"])
`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "-c", script)
	cmd.Env = toolEnv(e)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "200 "+dbPassword {
		t.Fatalf("python: %v\n%s", err, out)
	}
}

// TestCurl does the same with curl. Skipped where curl is not installed.
func TestCurl(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	e := start(t, Options{})
	curl := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "curl", append([]string{"-sS"}, args...)...)
		cmd.Env = toolEnv(e)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := curl("-H", "Metadata: true", imdsURL)
	if !strings.Contains(out, `"access_token"`) {
		t.Fatalf("IMDS via curl: %s", out)
	}
	out = curl("-o", "/dev/null", "-w", "%{http_code}", testVaultURL+"/secrets/db-password/?api-version=2026-04-01")
	if out != "401" {
		t.Errorf("Key Vault via curl without a token: %s, want the 401 challenge", out)
	}
}
