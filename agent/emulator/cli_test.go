package emulator

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/internal/syncbuf"
)

func TestRunCommandUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badSeed := writeFile(t, dir, "bad.yaml", []byte("vaults:\n  contoso:\n    access:\n      - {identity: nobody}\n    bogus: 1\n"))
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string
		stderr    []string
		notStderr string
	}{
		{"help", []string{"--help"}, 0, "Examples:", nil, ""},
		{"no seed", nil, 64, "", []string{"agent: error: --seed is required", "agent: hint:"}, ""},
		{"unknown flag", []string{"--seed", badSeed, "--bogus"}, 64, "", []string{"agent: error: flag provided but not defined: -bogus"}, ""},
		{"extra argument", []string{"--seed", badSeed, "extra"}, 64, "", []string{`unexpected argument "extra"`}, ""},
		{"bad latency", []string{"--seed", badSeed, "--latency", "soon"}, 64, "", []string{"invalid value"}, ""},
		{"missing seed file", []string{"--seed", filepath.Join(dir, "none.yaml")}, 65, "", []string{"agent: error: read seed:"}, "listening"},
		{"bad seed", []string{"--seed", badSeed}, 65, "", []string{
			"agent: error: " + badSeed + `:4:20: vaults.contoso.access[0].identity: no identity named "nobody": the seed defines no identities`,
			"agent: error: " + badSeed + ":5:5: vaults.contoso.bogus: unknown key",
		}, "listening"},
		{"non-loopback listen", []string{"--seed", writeFile(t, dir, "ok.yaml", []byte("{}\n")), "--listen", "0.0.0.0:0"}, 69, "",
			[]string{"loopback addresses only"}, "listening"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := RunCommand(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout.String())
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if tc.notStderr != "" && strings.Contains(stderr.String(), tc.notStderr) {
				t.Errorf("stderr contains %q:\n%s", tc.notStderr, stderr.String())
			}
		})
	}
}

func TestRunCommandServesAndWritesEnvFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seed := writeFile(t, dir, "seed.yaml", []byte(`
managedIdentities:
  system: {}
vaults:
  contoso:
    secrets: {db-password: "from-cli-seed"}
    access: [{identity: system, permissions: [get]}]
`))
	envFile := filepath.Join(dir, "out", "azure.env")
	asFile := filepath.Join(dir, "out", "appservice.env")
	if err := os.Mkdir(filepath.Dir(envFile), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	stderr := &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- RunCommand(ctx, []string{"--seed", seed, "--env-file", envFile, "--appservice-env-file", asFile,
			"--latency", "1ms"}, &stdout, stderr)
	}()
	waitEnvFile(t, asFile, done) // written last
	env := waitEnvFile(t, envFile, done)
	for _, k := range []string{"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "AGENT_EMULATOR_URL"} {
		if env[k] == "" {
			t.Errorf("env file lacks %s", k)
		}
	}
	if !strings.Contains(stderr.String(), "agent emulator: listening on "+env["AGENT_EMULATOR_URL"]+"\n") {
		t.Errorf("stderr lacks the listening line:\n%s", stderr.String())
	}
	entries, _ := os.ReadDir(filepath.Dir(envFile))
	if len(entries) != 2 {
		t.Errorf("output directory holds %d entries (temporary files left?)", len(entries))
	}
	if fi, err := os.Stat(asFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("appservice env file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	// The environment works: an IMDS token through the proxy.
	proxy, _ := url.Parse(env["HTTP_PROXY"])
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
	status, _, body := do(t, c, newRequest(t, "GET", imdsURL, nil, "Metadata", "true"))
	if status != 200 {
		t.Errorf("IMDS through the CLI's proxy: %d %s", status, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after cancel, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunCommand did not return after cancel")
	}
	if _, err := os.Stat(env["SSL_CERT_FILE"]); !os.IsNotExist(err) {
		t.Errorf("temporary CA file still exists after exit: %v", err)
	}
}

// waitEnvFile polls for an env file and parses it.
func waitEnvFile(t *testing.T, path string, done chan int) map[string]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err == nil {
			env := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					t.Fatalf("bad env line %q", line)
				}
				env[k] = v
			}
			return env
		}
		select {
		case code := <-done:
			t.Fatalf("RunCommand exited %d before writing %s", code, path)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not written", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
