package agent_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runWatchValues are the values the run --watch tests put in a vault
// beyond the watch tests' own.
var runWatchValues = []string{"api-NEW-value-9f8e"}

// assertNoRunWatchValues fails if a secret value appears in out.
func assertNoRunWatchValues(t *testing.T, out string) {
	t.Helper()
	assertNoValues(t, out)
	for _, v := range runWatchValues {
		if strings.Contains(out, v) {
			t.Errorf("secret value %q leaked into the output", v)
		}
	}
}

// TestRunWatchFailsClosed: when the first render cannot complete, the
// command never starts and the agent exits with its own code: at once for
// a missing secret, after --timeout for a vault that keeps failing.
func TestRunWatchFailsClosed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		vault    string // added to the contoso vault of the seed
		manifest string
		extra    []string
		code     int
		stderr   string
	}{
		{name: "missing secret", manifest: strings.Replace(runWatchManifest("", ""), "main/unused", "main/no-such-secret", 1),
			code: 66, stderr: "secrets.unused"},
		{name: "vault keeps failing", vault: "    faults: {rate: 1, kinds: [503]}\n", manifest: runWatchManifest("", ""),
			extra: []string{"AGENT_TIMEOUT=2s"}, code: 75, stderr: "deadline of 2s exceeded before the first render completed; the command was not started"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			e := startEmulator(t, watchSeed("", tc.vault), dir)
			mf := writeFile(t, dir, "agent.yaml", tc.manifest)
			marker := filepath.Join(dir, "marker")
			start := time.Now()
			r := runAgent(t, e, tc.extra, "run", "--watch", "-m", mf, "--", childBin(t), "touch", marker)
			expectCode(t, r, tc.code)
			if took := time.Since(start); took > 15*time.Second {
				t.Errorf("took %s to give up", took)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, r.stderr)
			}
			noMarker(t, marker)
			noOutputs(t, dir)
			assertNoRunWatchValues(t, r.stdout+r.stderr)
		})
	}
}

// TestRunWatchTellsSystemd: READY=1 reaches systemd once the files are
// written and the child started.
func TestRunWatchTellsSystemd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", runWatchManifest("", "watch: {interval: 1h}\n"))
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	evf := filepath.Join(dir, "events")
	p := startRunWatch(t, e, []string{"NOTIFY_SOCKET=" + sock}, "-m", mf, "--", childBin(t), "wait", evf, "0")
	buf := make([]byte, 512)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err := conn.ReadFromUnix(buf)
	if err != nil {
		t.Fatalf("no notification: %v\n%s", err, p.stderr)
	}
	if got := string(buf[:n]); got != "READY=1" {
		t.Fatalf("systemd got %q first, want READY=1", got)
	}
	// The agent sends READY=1 once the child has exec'd: it is already
	// there as the agent's child, running the child program.
	if readOrEmpty(filepath.Join(dir, "out/api.txt")) == "" || !hasChildProcess(p.cmd.Process.Pid, "child") {
		t.Errorf("READY=1 before the files were written and the child started:\n%s", p.stderr)
	}
	p.stop()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := conn.ReadFromUnix(buf); err != nil || string(buf[:n]) != "STOPPING=1" {
		t.Errorf("after SIGTERM systemd got %q, %v; want STOPPING=1", buf[:n], err)
	}
}

// TestRunWatchAsUser: as root, --user and --pristine apply to the
// supervised child as they do to the exec'd one.
func TestRunWatchAsUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("--user needs root; this test runs only as root")
	}
	dir := worldDir(t)
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", runWatchManifest("", ""))
	w := filepath.Join(dir, "w")
	if err := os.Mkdir(w, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(w, 0o777)
	idFile, envFile := filepath.Join(w, "id"), filepath.Join(w, "env.json")
	r := runAgent(t, e, []string{"AZURE_CLIENT_SECRET=not-for-the-child", "EXTRA=x"},
		"run", "--watch", "--user", "nobody", "--pristine", "-m", mf, "--", childBin(t), "id", idFile, "env", envFile, "exit", "5")
	expectCode(t, r, 5)
	if got := readFile(t, idFile); !strings.HasPrefix(got, "65534 65534") {
		t.Errorf("child ran as %q, want nobody (65534)", got)
	}
	env := readEnv(t, envFile)
	if env["USER"] != "nobody" || env["DB_PASSWORD"] != "db-OLD-value-1f2e" {
		t.Errorf("child env: %v", diffEnv(env, map[string]string{"USER": "nobody", "DB_PASSWORD": "db-OLD-value-1f2e"}))
	}
	for _, k := range []string{"AZURE_CLIENT_SECRET", "EXTRA"} {
		if _, ok := env[k]; ok {
			t.Errorf("--pristine child has %s", k)
		}
	}
	assertNoRunWatchValues(t, r.stdout+r.stderr)
}

// hasChildProcess reports whether a process running comm has parent ppid.
func hasChildProcess(ppid int, comm string) bool {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if s[open+1:end] == comm && len(fields) > 1 && fields[1] == strconv.Itoa(ppid) {
			return true
		}
	}
	return false
}
