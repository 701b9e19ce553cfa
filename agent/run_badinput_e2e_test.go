package agent_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRunFailsClosed: whatever goes wrong before the exec, the agent exits
// with its own code and a message naming the variable, flag or manifest
// line, the child never starts (it would create a marker file) and no
// file is written.
func TestRunFailsClosed(t *testing.T) {
	t.Parallel()
	ref := func(v, inner string) []string { return []string{v + "=" + kvRef(inner)} }
	cases := []struct {
		name     string
		manifest string // with a file under out/ when not empty
		env      []string
		flags    []string
		noCmd    bool
		code     int
		stderr   []string
	}{
		{name: "secret not found", env: ref("REF", "VaultName=contoso;SecretName=nope"), code: 66,
			stderr: []string{"environment variable REF: secret https://contoso.vault.azure.net/secrets/nope: not found"}},
		{name: "vault that does not exist", env: ref("REF", "SecretUri=https://nosuchvault.vault.azure.net/secrets/x"), code: 66,
			stderr: []string{"environment variable REF: secret https://nosuchvault.vault.azure.net/secrets/x: not found"}},
		{name: "access denied", env: ref("STRIPE", "VaultName=billing;SecretName=stripe-key"), code: 77,
			stderr: []string{"environment variable STRIPE:", "access denied", "agent: hint: grant identity"}},
		{name: "one bad reference among good ones, with a manifest", manifest: contosoManifest,
			env:  append(ref("GOOD", "VaultName=contoso;SecretName=db-password"), ref("BAD", "VaultName=contoso;SecretName=nope")...),
			code: 66, stderr: []string{"environment variable BAD:"}},
		{name: "malformed reference", env: []string{"BAD=@Microsoft.KeyVault(VaultName=contoso;SecretName=x"}, code: 65,
			stderr: []string{"environment variable BAD: malformed Key Vault reference"}},
		{name: "unknown key", env: ref("BAD", "VaultName=contoso;Secret=x"), code: 65,
			stderr: []string{`environment variable BAD: unknown key "Secret"`}},
		{name: "missing part", env: ref("BAD", "VaultName=contoso"), code: 65,
			stderr: []string{"environment variable BAD: Key Vault reference needs SecretName"}},
		{name: "http", env: ref("BAD", "SecretUri=http://contoso.vault.azure.net/secrets/db-password"), code: 65,
			stderr: []string{"environment variable BAD: SecretUri must use https"}},
		{name: "host outside Key Vault", env: ref("BAD", "SecretUri=https://contoso.example.com/secrets/db-password"), code: 65,
			stderr: []string{`environment variable BAD: host "contoso.example.com" is not a Key Vault host`}},
		{name: "host of another cloud than the manifest's", manifest: contosoManifest,
			env: ref("BAD", "SecretUri=https://contoso.vault.azure.cn/secrets/db-password"), code: 65,
			stderr: []string{`environment variable BAD: host "contoso.vault.azure.cn" is not a Key Vault host of this cloud`}},
		{name: "references in two clouds", env: append(ref("A", "SecretUri=https://contoso.vault.azure.cn/secrets/a"), ref("B", "SecretUri=https://contoso.vault.azure.net/secrets/b")...),
			code: 65, stderr: []string{"environment variable B:", "one run uses one cloud"}},
		{name: "file cannot be written", manifest: strings.Replace(contosoManifest, "out/api.txt", "blocker/api.txt", 1),
			env: ref("GOOD", "VaultName=contoso;SecretName=db-password"), code: 73, stderr: []string{"blocker", "nothing was started"}},
		{name: "manifest not found", flags: []string{"-m", "no-such-agent.yaml"}, code: 66, stderr: []string{"no-such-agent.yaml"}},
		{name: "empty command", noCmd: true, code: 64, stderr: []string{"run needs a command"}},
		{name: "listen without watch", flags: []string{"--listen", "127.0.0.1:0"}, code: 64, stderr: []string{"agent: error: --listen needs --watch"}},
		{name: "unknown user", flags: []string{"--user", "no-such-user-xyz"}, env: ref("GOOD", "VaultName=contoso;SecretName=db-password"),
			code: 78, stderr: []string{`--user: unknown user "no-such-user-xyz"`}},
		{name: "unknown group", flags: []string{"--user", "nobody:no-such-group-xyz"}, code: 78, stderr: []string{`unknown group "no-such-group-xyz"`}},
		{name: "bad flag", flags: []string{"--no-such-flag"}, code: 64, stderr: []string{"no-such-flag"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			e := startRunEmulator(t, dir)
			writeFile(t, dir, "blocker", "a file where a directory should be")
			args := append([]string{"run"}, tc.flags...)
			if tc.manifest != "" {
				args = append(args, "-m", writeFile(t, dir, "agent.yaml", tc.manifest))
			}
			marker := filepath.Join(dir, "marker")
			args = append(args, "--")
			if !tc.noCmd {
				args = append(args, childBin(t), "touch", marker)
			}
			r := runAgent(t, e, append(tc.env, "AGENT_LOG_LEVEL=debug"), args...)
			expectCode(t, r, tc.code)
			for _, want := range tc.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			noMarker(t, marker)
			noOutputs(t, dir)
			assertNoLeak(t, r.stdout+r.stderr)
		})
	}
}

// TestRunAsUser: as root, files are written with their owners, then the
// child runs as the --user with its HOME and USER.
func TestRunAsUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("--user needs root; this test runs only as root")
	}
	dir := worldDir(t)
	e := startRunEmulator(t, dir)
	m := writeFile(t, dir, "agent.yaml", contosoManifest+"    owner: nobody\n")
	idFile, envFile := filepath.Join(dir, "w", "id"), filepath.Join(dir, "w", "env.json")
	if err := os.Mkdir(filepath.Join(dir, "w"), 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "w"), 0o777)
	r := runAgent(t, e, []string{"DB=" + kvRef("VaultName=contoso;SecretName=db-password"), "USER=root", "LOGNAME=root"},
		"run", "--user", "nobody", "-m", m, "--", childBin(t), "id", idFile, "env", envFile)
	expectCode(t, r, 0)
	assertNoLeak(t, r.stdout+r.stderr)
	if got := readFile(t, idFile); got != "65534 65534 [65534]" {
		t.Errorf("child ran as %q, want uid, gid and groups of nobody (65534 65534 [65534])", got)
	}
	env := readEnv(t, envFile)
	for k, want := range map[string]string{"HOME": "/nonexistent", "USER": "nobody", "LOGNAME": "nobody", "DB": dbValue} {
		if env[k] != want {
			t.Errorf("child's %s = %s, want %s", k, shown(env[k]), shown(want))
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "out/api.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 65534 {
		t.Errorf("out/api.txt is owned by %d, want nobody (65534)", uid)
	}
}

// TestRunUserNeedsRoot: --user from a user other than root is refused
// before anything happens.
func TestRunUserNeedsRoot(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to start the agent as another user")
	}
	dir := worldDir(t)
	marker := filepath.Join(dir, "marker")
	cmd := exec.Command(agentBin, "run", "--user", "root", "--", childBin(t), "touch", marker)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 77 {
		t.Fatalf("agent as nobody with --user root: %v, want exit 77\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "agent: error: --user root needs root") {
		t.Errorf("stderr lacks the reason:\n%s", stderr.String())
	}
	noMarker(t, marker)
}

// worldDir returns a temporary directory that every user can enter.
func worldDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "agent-run-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
