package agent_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runWatchManifest feeds the child's environment from db (DB_PASSWORD)
// and a file from api; unused is polled but feeds nothing. fileOnChange
// is the file's onChange ("" for none), watch the watch section.
func runWatchManifest(fileOnChange, watch string) string {
	m := `version: 1
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  db: main/db-password
  api: main/api-key
  unused: main/unused
files:
  - path: out/api.txt
    template: 'api={{ secret "api" }}'
`
	if fileOnChange != "" {
		m += "    onChange: " + fileOnChange + "\n"
	}
	return m + `env:
  DB_PASSWORD: '{{ secret "db" }}'
` + watch
}

// elsewhereRef is a Key Vault reference in the agent's environment, next
// to the manifest.
var elsewhereRef = "ELSEWHERE=" + kvRef("VaultName=contoso;SecretName=elsewhere")

// TestRunWatchRotation: the child is restarted when its environment
// changes (a manifest env entry or a reference in the environment),
// signalled when only its file changes, and left alone when nothing it
// uses changes; SIGTERM to the agent reaches the child, whose exit code
// becomes the agent's.
func TestRunWatchRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", runWatchManifest("{signal: SIGHUP}", "watch: {interval: 1s, jitter: 0, wait: {min: 100ms, max: 1s}}\n"))
	evf, envf, apiFile := filepath.Join(dir, "events"), filepath.Join(dir, "env.json"), filepath.Join(dir, "out/api.txt")
	p := startRunWatch(t, e, []string{elsewhereRef}, "-m", mf, "--log-level", "debug", "--", childBin(t), "env", envf, "wait", evf, "42")
	waitFor(t, 10*time.Second, "the child", func() bool { return len(started(evf)) == 1 })
	first := started(evf)[0]
	if got := readEnv(t, envf); got["DB_PASSWORD"] != "db-OLD-value-1f2e" || got["ELSEWHERE"] != "elsewhere-OLD-value-7988" {
		t.Fatalf("the child's environment lacks the secrets: %v", diffEnv(got, map[string]string{"DB_PASSWORD": "db-OLD-value-1f2e", "ELSEWHERE": "elsewhere-OLD-value-7988"}))
	}
	if readFile(t, apiFile) != "api=api-OLD-value-3d4c" {
		t.Fatal("api.txt not rendered before the child started")
	}
	waitFor(t, 5*time.Second, "ready", func() bool { code, _ := p.get("/readyz"); return code == 200 })

	t.Run("an unrelated change leaves the child alone", func(t *testing.T) {
		setSecret(t, e, "unused", "unused-NEW-value-e5f6")
		p.waitChecks(3)
		if evs := events(evf); len(evs) != 1 {
			t.Errorf("the child was touched:\n%s", eventsString(evf))
		}
	})
	t.Run("a file-only change signals the child, same PID", func(t *testing.T) {
		setSecret(t, e, "api-key", "api-NEW-value-9f8e")
		waitFor(t, 10*time.Second, "SIGHUP to the child", func() bool { return hasEvent(evf, first, "SIGHUP") })
		if got := readFile(t, apiFile); got != "api=api-NEW-value-9f8e" {
			t.Errorf("api.txt = %q", got)
		}
		p.waitChecks(2)
		if pids := started(evf); len(pids) != 1 {
			t.Errorf("the child was restarted for a file-only change:\n%s", eventsString(evf))
		}
	})
	t.Run("an env change restarts the child with the new value", func(t *testing.T) {
		setSecret(t, e, "db-password", "db-NEW-value-a1b2")
		waitFor(t, 10*time.Second, "a second child", func() bool { return len(started(evf)) == 2 })
		if !hasEvent(evf, first, "SIGTERM") {
			t.Errorf("the first child was not stopped with SIGTERM:\n%s", eventsString(evf))
		}
		second := started(evf)[1]
		if second == first {
			t.Fatalf("same PID %d after a restart", second)
		}
		if got := readEnv(t, envf); got["DB_PASSWORD"] != "db-NEW-value-a1b2" || got["ELSEWHERE"] != "elsewhere-OLD-value-7988" {
			t.Errorf("the restarted child's environment: %v", diffEnv(got, map[string]string{"DB_PASSWORD": "db-NEW-value-a1b2", "ELSEWHERE": "elsewhere-OLD-value-7988"}))
		}
	})
	t.Run("a rotated reference in the environment restarts the child", func(t *testing.T) {
		setSecret(t, e, "elsewhere", "elsewhere-NEW-value-0a0b")
		waitFor(t, 10*time.Second, "a third child", func() bool { return len(started(evf)) == 3 })
		if got := readEnv(t, envf); got["ELSEWHERE"] != "elsewhere-NEW-value-0a0b" || got["DB_PASSWORD"] != "db-NEW-value-a1b2" {
			t.Errorf("the restarted child's environment: %v", diffEnv(got, map[string]string{"DB_PASSWORD": "db-NEW-value-a1b2", "ELSEWHERE": "elsewhere-NEW-value-0a0b"}))
		}
	})
	t.Run("SIGTERM reaches the child and its exit code is the agent's", func(t *testing.T) {
		last := started(evf)[2]
		p.signal(syscall.SIGTERM)
		if code := p.waitExit(10 * time.Second); code != 42 {
			t.Errorf("agent exit %d, want the child's 42:\n%s", code, p.stderr)
		}
		if !hasEvent(evf, last, "SIGTERM") {
			t.Errorf("the child did not get SIGTERM:\n%s", eventsString(evf))
		}
	})
	if n := len(started(evf)); n != 3 {
		t.Errorf("%d children started in all, want 3:\n%s", n, eventsString(evf))
	}
	assertNoRunWatchValues(t, p.stderr.String())
}

// TestRunWatchOnChange: watch.onChange decides what a file-only change
// does to the child.
func TestRunWatchOnChange(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		watch     string
		signal    string // the event the first child must record; "" for none
		restarted bool
	}{
		{"signal, default SIGHUP", "onChange: signal", "SIGHUP", false},
		{"signal SIGUSR2", "onChange: signal, signal: SIGUSR2", "SIGUSR2", false},
		{"restart", "onChange: restart", "SIGTERM", true},
		{"none", "onChange: none", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			e := startEmulator(t, watchSeed("", ""), dir)
			mf := writeFile(t, dir, "agent.yaml", runWatchManifest("", "watch: {interval: 1s, jitter: 0, wait: {min: 100ms, max: 1s}, "+tc.watch+"}\n"))
			evf := filepath.Join(dir, "events")
			p := startRunWatch(t, e, nil, "-m", mf, "--", childBin(t), "wait", evf, "0")
			waitFor(t, 10*time.Second, "the child", func() bool { return len(started(evf)) == 1 })
			first := started(evf)[0]
			setSecret(t, e, "api-key", "api-NEW-value-9f8e")
			waitFor(t, 10*time.Second, "api.txt rewritten", func() bool { return readOrEmpty(filepath.Join(dir, "out/api.txt")) == "api=api-NEW-value-9f8e" })
			if tc.signal != "" {
				waitFor(t, 10*time.Second, tc.signal+" to the child", func() bool { return hasEvent(evf, first, tc.signal) })
			}
			if tc.restarted {
				waitFor(t, 10*time.Second, "a second child", func() bool { return len(started(evf)) == 2 })
			}
			p.waitChecks(2)
			want := 1
			if tc.restarted {
				want = 2
			}
			if n := len(started(evf)); n != want {
				t.Errorf("%d children started, want %d:\n%s", n, want, eventsString(evf))
			}
			if tc.signal == "" && len(events(evf)) != 1 {
				t.Errorf("the child was touched:\n%s", eventsString(evf))
			}
			assertNoRunWatchValues(t, p.stderr.String())
		})
	}
}

// TestRunWatchCoalesces: changes that arrive within watch.wait.min of
// each other, over several checks, restart the child once, with the last
// value.
func TestRunWatchCoalesces(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", runWatchManifest("", "watch: {interval: 1h, wait: {min: 1500ms, max: 10s}}\n"))
	evf, envf := filepath.Join(dir, "events"), filepath.Join(dir, "env.json")
	p := startRunWatch(t, e, []string{"AGENT_TESTONLY_WATCH_INTERVAL=100ms"}, "-m", mf, "--log-level", "debug", "--",
		childBin(t), "env", envf, "wait", evf, "0")
	waitFor(t, 10*time.Second, "the child", func() bool { return len(started(evf)) == 1 })
	seen := func(n int) func() bool {
		return func() bool { return strings.Count(p.stderr.String(), `msg="new secret version" secret=db `) >= n }
	}
	setSecret(t, e, "db-password", "db-NEW-value-a1b2")
	waitFor(t, 5*time.Second, "the first change seen", seen(1))
	setSecret(t, e, "db-password", "db-NEWER-value-c3d4")
	waitFor(t, 5*time.Second, "the second change seen", seen(2))
	if n := len(started(evf)); n != 1 {
		t.Fatalf("restarted before the changes went quiet:\n%s", eventsString(evf))
	}
	waitFor(t, 10*time.Second, "the restart", func() bool { return len(started(evf)) == 2 })
	p.waitChecks(5)
	if n := len(started(evf)); n != 2 {
		t.Errorf("%d children started, want 2 (one restart):\n%s", n, eventsString(evf))
	}
	if got := readEnv(t, envf)["DB_PASSWORD"]; got != "db-NEWER-value-c3d4" {
		t.Errorf("the restarted child has DB_PASSWORD %s", shown(got))
	}
	assertNoRunWatchValues(t, p.stderr.String())
}

// TestRunWatchSignals: signals sent to the agent reach the child (SIGHUP
// aside: it reloads the manifest and checks now), and the child's PID
// stays the same.
func TestRunWatchSignals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", runWatchManifest("", "watch: {interval: 1h}\n"))
	evf := filepath.Join(dir, "events")
	p := startRunWatch(t, e, nil, "-m", mf, "--", childBin(t), "wait", evf, "0")
	waitFor(t, 10*time.Second, "the child", func() bool { return len(started(evf)) == 1 })
	pid := started(evf)[0]
	for _, sig := range []struct {
		sig  syscall.Signal
		name string
	}{{syscall.SIGUSR1, "SIGUSR1"}, {syscall.SIGUSR2, "SIGUSR2"}, {syscall.SIGWINCH, "SIGWINCH"}, {syscall.SIGINT, "SIGINT"}, {syscall.SIGQUIT, "SIGQUIT"}} {
		p.signal(sig.sig)
		waitFor(t, 5*time.Second, sig.name+" at the child", func() bool { return hasEvent(evf, pid, sig.name) })
	}
	t.Run("SIGHUP reloads and checks now, and is not passed on", func(t *testing.T) {
		setSecret(t, e, "api-key", "api-NEW-value-9f8e")
		p.signal(syscall.SIGHUP)
		waitFor(t, 10*time.Second, "api.txt rewritten", func() bool { return readOrEmpty(filepath.Join(dir, "out/api.txt")) == "api=api-NEW-value-9f8e" })
		if hasEvent(evf, pid, "SIGHUP") {
			t.Error("SIGHUP was passed on to the child")
		}
	})
	if n := len(started(evf)); n != 1 {
		t.Errorf("%d children started, want 1:\n%s", n, eventsString(evf))
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d, want the child's 0:\n%s", code, p.stderr)
	}
	if !hasEvent(evf, pid, "SIGTERM") {
		t.Errorf("the child did not get SIGTERM:\n%s", eventsString(evf))
	}
}

// TestRunWatchExitCodes: the child exiting ends the agent, with its exit
// code, or 128+N when signal N killed it; it is not started again. No
// manifest: the references in the environment only.
func TestRunWatchExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"exit 0", []string{"exit", "0"}, 0},
		{"exit 3", []string{"exit", "3"}, 3},
		{"exit 42", []string{"exit", "42"}, 42},
		{"killed by SIGKILL", []string{"killself", "9"}, 137},
		{"killed by SIGTERM", []string{"killself", "15"}, 143},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			e := startEmulator(t, watchSeed("", ""), dir)
			ran := filepath.Join(dir, "ran")
			start := time.Now()
			r := runAgent(t, e, []string{elsewhereRef}, append([]string{"run", "--watch", "--", childBin(t), "pid", ran}, tc.args...)...)
			expectCode(t, r, tc.want)
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("the agent took %s to exit after its child", took)
			}
			if n := strings.Count(r.stderr, `msg="child started"`); n != 1 {
				t.Errorf("the child started %d times:\n%s", n, r)
			}
			readFile(t, ran)
			assertNoRunWatchValues(t, r.stdout+r.stderr)
		})
	}
}

// TestRunWatchKillTimeout: a child that ignores SIGTERM is killed after
// watch.killTimeout, for a restart and when the agent is stopped.
func TestRunWatchKillTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", runWatchManifest("", "watch: {interval: 1s, jitter: 0, wait: {min: 100ms, max: 1s}, killTimeout: 700ms}\n"))
	evf := filepath.Join(dir, "events")
	p := startRunWatch(t, e, nil, "-m", mf, "--", childBin(t), "wait", evf, "ignore")
	waitFor(t, 10*time.Second, "the child", func() bool { return len(started(evf)) == 1 })
	first := started(evf)[0]

	setSecret(t, e, "db-password", "db-NEW-value-a1b2")
	waitFor(t, 10*time.Second, "SIGTERM at the child", func() bool { return hasEvent(evf, first, "SIGTERM") })
	waitFor(t, 10*time.Second, "a second child", func() bool { return len(started(evf)) == 2 })
	if alive(first) {
		t.Errorf("the first child (%d) is still alive", first)
	}
	// By the agent's own clock: the restart's SIGTERM, then the kill no
	// sooner than killTimeout later, and the old child's end by SIGKILL.
	out := p.stderr.String()
	if d := logTime(t, out, `msg="environment changed; restarting the child"`, 1).Sub(logTime(t, out, "killed it", 1)); d > -700*time.Millisecond {
		t.Errorf("the child was killed %s after the restart's SIGTERM; it should have had its 700ms", -d)
	}
	if !strings.Contains(out, `msg="child stopped for a restart" pid=`+strconv.Itoa(first)+" exit_code=137") {
		t.Errorf("the first child's end is not logged as a kill:\n%s", out)
	}

	second := started(evf)[1]
	start := time.Now()
	p.signal(syscall.SIGTERM)
	if code := p.waitExit(10 * time.Second); code != 137 {
		t.Errorf("agent exit %d, want 137 (the child was killed):\n%s", code, p.stderr)
	}
	if took := time.Since(start); took < 700*time.Millisecond {
		t.Errorf("the child was killed %s after SIGTERM, before its killTimeout", took)
	}
	if !hasEvent(evf, second, "SIGTERM") {
		t.Errorf("the child did not get SIGTERM first:\n%s", eventsString(evf))
	}
	if n := strings.Count(p.stderr.String(), "child did not exit within killTimeout; killed it"); n != 2 {
		t.Errorf("%d kills logged, want 2:\n%s", n, p.stderr)
	}
}

// logTime is the time of the n-th (from 1) log line of out that holds
// what; the test fails if there is none.
func logTime(t *testing.T, out, what string, n int) time.Time {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, what) {
			continue
		}
		if n--; n > 0 {
			continue
		}
		v, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatalf("no time in log line %q: %v", line, err)
		}
		return at
	}
	t.Fatalf("no log line holds %q:\n%s", what, out)
	return time.Time{}
}

// alive reports whether a process with pid exists (and is not a zombie).
func alive(pid int) bool {
	st := procState(pid)
	return st != 0 && st != 'Z'
}

// TestRunWatchReapsZombiesAsPID1: as PID 1 of a new PID namespace (a
// container's init), the agent reaps the orphans its child leaves behind.
func TestRunWatchReapsZombiesAsPID1(t *testing.T) {
	t.Parallel()
	if out, err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot make a PID namespace with unshare (needs root or user namespaces): %v %s", err, out)
	}
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	result := filepath.Join(dir, "result")
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", agentBin, "run", "--watch", "--", childBin(t), "zombies", result, "5")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, elsewhereRef}, e.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("agent as PID 1: %v\n%s", err, out)
	}
	if got := readFile(t, result); got != "ppid=1 zombies=0" {
		t.Errorf("child reports %q, want ppid=1 zombies=0:\n%s", got, out)
	}
	assertNoRunWatchValues(t, string(out))
}

// TestRunWatchReload: an edited manifest that changes the environment
// restarts the child, and the references of the agent's environment stay
// resolved across the reload; SIGHUP with an unchanged manifest changes
// nothing.
func TestRunWatchReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	watch := "watch: {interval: 1h, wait: {min: 100ms, max: 1s}}\n"
	mf := writeFile(t, dir, "agent.yaml", runWatchManifest("", watch))
	evf, envf := filepath.Join(dir, "events"), filepath.Join(dir, "env.json")
	p := startRunWatch(t, e, []string{elsewhereRef}, "-m", mf, "--log-level", "debug", "--", childBin(t), "env", envf, "wait", evf, "0")
	waitFor(t, 10*time.Second, "the child", func() bool { return len(started(evf)) == 1 })

	p.signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the reload", func() bool { return strings.Contains(p.stderr.String(), `msg="manifest unchanged"`) })

	writeFile(t, dir, "agent.yaml", strings.Replace(runWatchManifest("", watch), `DB_PASSWORD: '{{`, `DB_PASSWORD: 'pw:{{`, 1))
	waitFor(t, 10*time.Second, "a restart after the edit", func() bool { return len(started(evf)) == 2 })
	want := map[string]string{"DB_PASSWORD": "pw:db-OLD-value-1f2e", "ELSEWHERE": "elsewhere-OLD-value-7988"}
	got := readEnv(t, envf) // written before the child recorded "started"
	if got["DB_PASSWORD"] != want["DB_PASSWORD"] || got["ELSEWHERE"] != want["ELSEWHERE"] {
		t.Errorf("after the reload: %v", diffEnv(map[string]string{"DB_PASSWORD": got["DB_PASSWORD"], "ELSEWHERE": got["ELSEWHERE"]}, want))
	}
	if strings.Contains(p.stderr.String(), "manifest not reloaded") {
		t.Errorf("reload refused:\n%s", p.stderr)
	}
	assertNoRunWatchValues(t, p.stderr.String())
}

// TestRunWatchKeepsChildWhileKeyVaultFails: failed checks (throttling)
// leave the child running with the secrets it has; after recovery, the
// rotation that happened meanwhile reaches it.
func TestRunWatchKeepsChildWhileKeyVaultFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Five requests per 10 s: the first render and a few checks use them
	// up, then every check is throttled until the window ends.
	e := startEmulator(t, watchSeed("", "    limit: {requests: 5}\n"), dir)
	mf := writeFile(t, dir, "agent.yaml", runWatchManifest("", "watch: {interval: 1s, jitter: 0, wait: {min: 100ms, max: 1s}}\n"))
	evf, envf := filepath.Join(dir, "events"), filepath.Join(dir, "env.json")
	p := startRunWatch(t, e, nil, "-m", mf, "--", childBin(t), "env", envf, "wait", evf, "0")
	waitFor(t, 10*time.Second, "the child", func() bool { return len(started(evf)) == 1 })
	waitFor(t, 15*time.Second, "a throttled check", func() bool { return strings.Contains(p.stderr.String(), "check failed; every output stays as it is") })
	if evs := events(evf); len(evs) != 1 {
		t.Errorf("a failed check touched the child:\n%s", eventsString(evf))
	}
	setSecret(t, e, "db-password", "db-NEW-value-a1b2")
	waitFor(t, 25*time.Second, "recovery: the child restarted", func() bool { return len(started(evf)) == 2 })
	if got := readEnv(t, envf)["DB_PASSWORD"]; got != "db-NEW-value-a1b2" {
		t.Errorf("after recovery the child has DB_PASSWORD %s", shown(got))
	}
	assertNoRunWatchValues(t, p.stderr.String())
}
