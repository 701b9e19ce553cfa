package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWatchForgetsRetiredOutputs: an output dropped from the manifest by a
// reload is no longer restored when someone deletes it.
func TestWatchForgetsRetiredOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", watchManifest(dir, "watch: {interval: 1h}\n"))
	p := startWatch(t, e, nil, "-m", mf)
	dbFile, apiFile := filepath.Join(dir, "out/db.txt"), filepath.Join(dir, "out/api.txt")
	waitFor(t, 10*time.Second, "the first render", func() bool { return readOrEmpty(apiFile) == "api=api-OLD-value-3d4c" })

	// Drop api.txt from the manifest.
	m := readFile(t, mf)
	i := strings.Index(m, "  - path: out/api.txt")
	j := strings.Index(m, "watch:")
	writeFile(t, dir, "agent.yaml", m[:i]+m[j:])
	waitFor(t, 10*time.Second, "the reload", func() bool { return strings.Contains(p.stderr.String(), "manifest reloaded") })

	if err := os.Remove(apiFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dbFile); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "db.txt restored", func() bool { return readOrEmpty(dbFile) == "db=db-OLD-value-1f2e" })
	if _, err := os.Stat(apiFile); !os.IsNotExist(err) {
		t.Errorf("a retired output was restored")
	}
	p.stop()
	assertNoValues(t, p.stderr.String())
}

// TestWatchCommandsGetNoCredentials: onChange commands get the agent's
// environment without its credentials, including a service principal's
// clientSecretEnv variable.
func TestWatchCommandsGetNoCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", `version: 1
identities:
  spare: {kind: servicePrincipal, tenantId: `+tenantID+`, clientId: `+spClient+`, clientSecretEnv: SPARE_SP_SECRET}
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  db: main/db-password
files:
  - path: out/db.txt
    template: 'db={{ secret "db" }}'
    onChange: {command: [sh, -c, 'env > `+dir+`/command.env']}
watch: {interval: 1s, jitter: 0}
`)
	p := startWatch(t, e, []string{"SPARE_SP_SECRET=spare-SECRET-7c1", "AZURE_CLIENT_SECRET=env-SECRET-2b9", "KEEP_ME=yes"}, "-m", mf)
	dbFile := filepath.Join(dir, "out/db.txt")
	waitFor(t, 10*time.Second, "the first render", func() bool { return readOrEmpty(dbFile) == "db=db-OLD-value-1f2e" })
	setSecret(t, e, "db-password", "db-NEW-value-a1b2")
	envFile := filepath.Join(dir, "command.env")
	waitFor(t, 15*time.Second, "the onChange command", func() bool { return strings.Contains(readOrEmpty(envFile), "AGENT_CHANGED_FILE=") })
	got := readFile(t, envFile)
	for _, gone := range []string{"SPARE_SP_SECRET", "spare-SECRET-7c1", "AZURE_CLIENT_SECRET", "env-SECRET-2b9"} {
		if strings.Contains(got, gone) {
			t.Errorf("the onChange command's environment holds %s", gone)
		}
	}
	if !strings.Contains(got, "KEEP_ME=yes") {
		t.Errorf("the onChange command lost the agent's ordinary environment")
	}
	p.stop()
}

// TestWatchSeesEditsDuringFirstRender: the manifest is edited after the
// agent read it but while the first render is still fetching (before any
// file is watched); the edit still takes effect without SIGHUP.
func TestWatchSeesEditsDuringFirstRender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("latency: 2s\n", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", watchManifest(dir, "watch: {interval: 1h}\n"))
	// The IMDS probe must outlast the emulator's latency.
	p := startWatch(t, e, []string{"AGENT_IMDS_PROBE_TIMEOUT=10s"}, "-m", mf)
	// The credential is chosen after the manifest is read; at least one
	// 2 s round trip to Key Vault follows before any file is written.
	waitFor(t, 10*time.Second, "the agent to read its manifest", func() bool {
		return strings.Contains(p.stderr.String(), "credential source chosen")
	})
	apiFile := filepath.Join(dir, "out/api.txt")
	if _, err := os.Stat(apiFile); !os.IsNotExist(err) {
		t.Fatalf("the first render finished before the edit (%v); the test cannot tell", err)
	}
	m := readFile(t, mf)
	writeFile(t, dir, "agent.yaml", strings.Replace(m, `template: 'api={{ secret "api" }}'`, `template: 'API={{ secret "api" }}'`, 1))
	waitFor(t, 15*time.Second, "the edited template in api.txt", func() bool { return readOrEmpty(apiFile) == "API=api-OLD-value-3d4c" })
	p.stop()
	assertNoValues(t, p.stderr.String())
}
