package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/emulator"
)

// watchManifest has two files, each with an onChange command that appends
// a line to a log, and a secret no output uses. {{dir}} is the test's
// directory; watch is the watch section.
func watchManifest(dir, watch string) string {
	m := `version: 1
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  db: main/db-password
  api: main/api-key
  unused: main/unused
files:
  - path: out/db.txt
    template: 'db={{ secret "db" }}'
    onChange: {command: [sh, -c, 'echo db >> {{dir}}/db-hook.log'], timeout: 5s}
  - path: out/api.txt
    template: 'api={{ secret "api" }}'
    onChange: {command: [sh, -c, 'echo api >> {{dir}}/api-hook.log']}
` + watch
	return strings.ReplaceAll(m, "{{dir}}", dir)
}

func TestWatchRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", watchManifest(dir, "watch: {interval: 1s, jitter: 0}\n"))
	p := startWatch(t, e, nil, "-m", mf, "--log-level", "debug")
	dbFile, apiFile := filepath.Join(dir, "out/db.txt"), filepath.Join(dir, "out/api.txt")
	waitFor(t, 10*time.Second, "the first render", func() bool { return readOrEmpty(apiFile) == "api=api-OLD-value-3d4c" })
	if got := readFile(t, dbFile); got != "db=db-OLD-value-1f2e" {
		t.Fatalf("db.txt = %q", got)
	}
	// Ready follows the first render's last file by a moment.
	waitFor(t, 10*time.Second, "readyz 200 after the first render", func() bool { code, _ := p.get("/readyz"); return code == 200 })
	apiInfo, _ := os.Stat(apiFile)

	t.Run("nothing changed: one list page per check, no get", func(t *testing.T) {
		before := p.metric(`agent_keyvault_requests_total{code="200",operation="get"}`)
		// Each check logs how many requests it made (at debug level).
		from := len(p.stderr.String())
		var checks []string
		waitFor(t, 30*time.Second, "3 checks logged", func() bool {
			checks = checks[:0]
			for _, line := range strings.Split(p.stderr.String()[from:], "\n") {
				if strings.Contains(line, `msg="check complete"`) {
					checks = append(checks, line)
				}
			}
			return len(checks) >= 3
		})
		if got := p.metric(`agent_keyvault_requests_total{code="200",operation="get"}`); got != before {
			t.Errorf("%v gets while nothing changed", got-before)
		}
		for _, c := range checks {
			if !strings.Contains(c, " changed=0 requests=1 ") {
				t.Errorf("a check with nothing changed did not make exactly one request (the list page): %s", c)
			}
		}
	})

	t.Run("a new version rewrites the file and runs its command once", func(t *testing.T) {
		// How fast (the target: one interval + 1 s) is BenchmarkWatchRotation's.
		setSecret(t, e, "db-password", "db-NEW-value-a1b2")
		waitFor(t, 10*time.Second, "db.txt to change", func() bool { return readOrEmpty(dbFile) == "db=db-NEW-value-a1b2" })
		waitFor(t, 10*time.Second, "the onChange command", func() bool { return lineCount(filepath.Join(dir, "db-hook.log")) >= 1 })
		p.waitChecks(2)
		if n := lineCount(filepath.Join(dir, "db-hook.log")); n != 1 {
			t.Errorf("db onChange ran %d times, want 1", n)
		}
	})

	t.Run("unrelated changes rewrite nothing and run nothing", func(t *testing.T) {
		dbInfo, _ := os.Stat(dbFile)
		setSecret(t, e, "unused", "unused-NEW-value-e5f6")       // in the manifest, used by no output
		setSecret(t, e, "elsewhere", "elsewhere-NEW-value-0a0b") // not in the manifest
		p.waitChecks(3)
		for _, c := range []struct {
			path string
			was  os.FileInfo
		}{{dbFile, dbInfo}, {apiFile, apiInfo}} {
			now, err := os.Stat(c.path)
			if err != nil || !os.SameFile(now, c.was) || !now.ModTime().Equal(c.was.ModTime()) {
				t.Errorf("%s was rewritten", c.path)
			}
		}
		if n := lineCount(filepath.Join(dir, "api-hook.log")); n != 0 {
			t.Errorf("api onChange ran %d times, want 0", n)
		}
		if n := lineCount(filepath.Join(dir, "db-hook.log")); n != 1 {
			t.Errorf("db onChange ran %d times in all, want 1", n)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		_, body := p.get("/metrics")
		for _, want := range []string{`agent_keyvault_requests_total{code="200",operation="list"}`, `agent_secret_version_age_seconds{secret="db",vault="main"}`,
			"agent_files_written_total 3", `agent_onchange_commands_total{result="ok"} 1`, "agent_ready 1"} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
		assertNoValues(t, body)
	})
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d after SIGTERM:\n%s", code, p.stderr)
	}
	assertNoValues(t, p.stderr.String())
}

func TestWatchSurvivesThrottlingAndFaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Five requests per 10 s: the first render and a few checks use them
	// up, then every check is throttled until the window ends.
	e := startEmulator(t, watchSeed("", "    limit: {requests: 5}\n"), dir)
	mf := writeFile(t, dir, "agent.yaml", watchManifest(dir, "watch: {interval: 1s, jitter: 0}\n"))
	p := startWatch(t, e, nil, "-m", mf, "--log-level", "debug")
	dbFile := filepath.Join(dir, "out/db.txt")
	waitFor(t, 10*time.Second, "the first render", func() bool { return readOrEmpty(dbFile) == "db=db-OLD-value-1f2e" })
	waitFor(t, 15*time.Second, "a throttled check", func() bool { return strings.Contains(p.stderr.String(), "check failed; every output stays as it is") })
	if code, body := p.get("/readyz"); code != 503 || !strings.Contains(body, "throttled") {
		t.Errorf("readyz while throttled: %d %s", code, body)
	}
	setSecret(t, e, "db-password", "db-NEW-value-a1b2")
	waitFor(t, 25*time.Second, "recovery: db.txt rewritten", func() bool {
		got := readOrEmpty(dbFile)
		if got != "db=db-OLD-value-1f2e" && got != "db=db-NEW-value-a1b2" {
			t.Fatalf("db.txt is %q while checks fail; want it untouched", got)
		}
		return got == "db=db-NEW-value-a1b2"
	})
	waitFor(t, 10*time.Second, "ready again", func() bool { code, _ := p.get("/readyz"); return code == 200 })
	if p.metric(`agent_keyvault_requests_total{code="429",operation="list"}`)+p.metric(`agent_keyvault_requests_total{code="429",operation="get"}`) == 0 {
		t.Error("no 429 counted in the metrics")
	}
	p.stop()
	assertNoValues(t, p.stderr.String())
}

func TestWatchShortTokenLifetime(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The emulator's clock runs 58 s behind and its tokens live 1 min:
	// each token expires about 2 s after it is issued, so the agent must
	// get fresh ones several times during the test, without a failed check.
	seed, err := emulator.ParseSeed("seed.yaml", []byte(watchSeed("tokenLifetime: 1m\n", "")))
	if err != nil {
		t.Fatal(err)
	}
	e, err := emulator.Start(context.Background(), emulator.Options{Seed: seed, Now: func() time.Time { return time.Now().Add(-58 * time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	mf := writeFile(t, dir, "agent.yaml", watchManifest(dir, "watch: {interval: 1s, jitter: 0}\n"))
	p := startWatch(t, e, nil, "-m", mf)
	waitFor(t, 10*time.Second, "the first render", func() bool { return readOrEmpty(filepath.Join(dir, "out/db.txt")) != "" })
	tokens := e.Stats().Kinds["imds"]
	p.waitChecks(5)
	setSecret(t, e, "db-password", "db-NEW-value-a1b2")
	waitFor(t, 10*time.Second, "db.txt rewritten", func() bool { return readOrEmpty(filepath.Join(dir, "out/db.txt")) == "db=db-NEW-value-a1b2" })
	if got := e.Stats().Kinds["imds"]; got <= tokens {
		t.Errorf("no token refreshed (%d IMDS requests before, %d after)", tokens, got)
	}
	if p.metric("agent_check_errors_total") != 0 || strings.Contains(p.stderr.String(), "level=WARN") {
		t.Errorf("checks failed with short-lived tokens:\n%s", p.stderr)
	}
}

func TestWatchReloadsManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	// A long interval: only SIGHUP and file events make the agent act.
	mf := writeFile(t, dir, "agent.yaml", watchManifest(dir, "watch: {interval: 1h}\n"))
	p := startWatch(t, e, nil, "-m", mf)
	dbFile := filepath.Join(dir, "out/db.txt")
	waitFor(t, 10*time.Second, "the first render", func() bool { return readOrEmpty(dbFile) == "db=db-OLD-value-1f2e" })

	t.Run("SIGHUP checks now", func(t *testing.T) {
		setSecret(t, e, "db-password", "db-NEW-value-a1b2")
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "db.txt rewritten after SIGHUP", func() bool { return readOrEmpty(dbFile) == "db=db-NEW-value-a1b2" })
	})
	t.Run("an invalid manifest keeps the old one running", func(t *testing.T) {
		writeFile(t, dir, "agent.yaml", watchManifest(dir, "watch: {interval: 1h}\nbogus: true\n"))
		waitFor(t, 10*time.Second, "the reload to be refused", func() bool {
			return strings.Contains(p.stderr.String(), "manifest not reloaded; the previous one keeps running")
		})
		if !strings.Contains(p.stderr.String(), "bogus") {
			t.Errorf("the log does not say why:\n%s", p.stderr)
		}
		setSecret(t, e, "db-password", "db-NEWER-value-c3d4")
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the old manifest to keep working", func() bool { return readOrEmpty(dbFile) == "db=db-NEWER-value-c3d4" })
	})
	t.Run("a valid edit is applied", func(t *testing.T) {
		edited := strings.Replace(watchManifest(dir, "watch: {interval: 1h}\n"), "'db={{", "'password={{", 1)
		writeFile(t, dir, "agent.yaml", edited)
		waitFor(t, 10*time.Second, "db.txt re-rendered with the new template", func() bool { return readOrEmpty(dbFile) == "password=db-NEWER-value-c3d4" })
		waitFor(t, 5*time.Second, "the reload logged", func() bool { return strings.Contains(p.stderr.String(), "msg=\"manifest reloaded\"") })
	})
	p.stop()
	assertNoValues(t, p.stderr.String())
}

func TestWatchRestoresRenderedFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", watchManifest(dir, "watch: {interval: 1h}\n"))
	p := startWatch(t, e, nil, "-m", mf)
	dbFile, apiFile := filepath.Join(dir, "out/db.txt"), filepath.Join(dir, "out/api.txt")
	waitFor(t, 10*time.Second, "the first render", func() bool { return readOrEmpty(apiFile) == "api=api-OLD-value-3d4c" })
	tests := []struct {
		name   string
		path   string
		damage func(path string) error
		want   string
	}{
		{"deleted", dbFile, os.Remove, "db=db-OLD-value-1f2e"},
		{"altered", apiFile, func(p string) error { return os.WriteFile(p, []byte("someone else"), 0o600) }, "api=api-OLD-value-3d4c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.damage(tc.path); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, tc.path+" restored", func() bool { return readOrEmpty(tc.path) == tc.want })
		})
	}
	waitFor(t, 5*time.Second, "the restores counted", func() bool { return p.metric("agent_file_restores_total") == 2 })
	if n := lineCount(filepath.Join(dir, "db-hook.log")) + lineCount(filepath.Join(dir, "api-hook.log")); n != 0 {
		t.Errorf("a restore ran %d onChange commands; the content did not change", n)
	}
	p.stop()
	assertNoValues(t, p.stderr.String())
}

// assertNoValues fails if a secret value appears in the agent's output.
func assertNoValues(t *testing.T, out string) {
	t.Helper()
	for _, v := range watchValues {
		if strings.Contains(out, v) {
			t.Errorf("secret value %q leaked into the output", v)
		}
	}
}
