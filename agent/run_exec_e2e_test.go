package agent_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestRunExitCode: the child's exit code is the agent's.
func TestRunExitCode(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 3, 42} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			e := startRunEmulator(t, dir)
			r := runAgent(t, e, []string{"DB=" + kvRef("VaultName=contoso;SecretName=db-password")},
				"run", "--", childBin(t), "touch", filepath.Join(dir, "ran"), "exit", strconv.Itoa(code))
			expectCode(t, r, code)
			readFile(t, filepath.Join(dir, "ran"))
			assertNoLeak(t, r.stdout+r.stderr)
		})
	}
}

// TestRunExecsInPlace: the child has the agent's PID (exec, not fork), so
// a signal sent to that PID reaches the child's handler, and the exit code
// is the child's.
func TestRunExecsInPlace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startRunEmulator(t, dir)
	pidFile, ready, marker := filepath.Join(dir, "pid"), filepath.Join(dir, "ready"), filepath.Join(dir, "marker")
	cmd := exec.Command(agentBin, "run", "--", childBin(t), "pid", pidFile, "signal", ready, marker, "exit", "7")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "DB=" + kvRef("VaultName=contoso;SecretName=db-password")}, e.Env()...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if !waitForFile(ready, done) {
		t.Fatalf("the child never became ready:\n%s", out.String())
	}
	if got := readFile(t, pidFile); got != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("child PID %s, agent PID %d: the agent forked instead of exec'ing", got, cmd.Process.Pid)
	}
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	select {
	case err := <-done:
		if !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Errorf("agent exited with %v, want the child's 7:\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the agent did not exit after the signal")
	}
	if got := readFile(t, marker); got != "SIGUSR1" {
		t.Errorf("child's handler recorded %q, want SIGUSR1", got)
	}
	assertNoLeak(t, out.String())
}

// waitForFile waits until path exists; false if done fired first or after 20s.
func waitForFile(path string, done <-chan error) bool {
	deadline := time.After(20 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		select {
		case err := <-done:
			_ = err
			return false
		case <-deadline:
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestRunCommandNotRunnable: a command that is not found exits 127 and
// one that cannot be executed 126, with the shell's wording, before any
// request to Azure and before any file is written.
func TestRunCommandNotRunnable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notExec := writeFile(t, dir, "bin/not-exec", "#!/bin/sh\n")
	cases := []struct {
		name, cmd string
		code      int
		stderr    string
	}{
		{"not in PATH", "no-such-command-xyz", 127, "agent: error: no-such-command-xyz: command not found"},
		{"missing path", filepath.Join(dir, "nope"), 127, "agent: error: " + filepath.Join(dir, "nope") + ": No such file or directory"},
		{"not executable", notExec, 126, "agent: error: " + notExec + ": Permission denied"},
		{"not executable in PATH", "not-exec", 126, "agent: error: not-exec: Permission denied"},
		{"a directory", dir, 126, "agent: error: " + dir + ": Is a directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sub := t.TempDir()
			e := startRunEmulator(t, sub)
			m := writeFile(t, sub, "agent.yaml", contosoManifest)
			r := runAgent(t, e, []string{"PATH=" + filepath.Join(dir, "bin") + ":" + os.Getenv("PATH"),
				"DB=" + kvRef("VaultName=contoso;SecretName=db-password")}, "run", "-m", m, "--", tc.cmd)
			expectCode(t, r, tc.code)
			if !bytes.Contains([]byte(r.stderr), []byte(tc.stderr+"\n")) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, r.stderr)
			}
			noOutputs(t, sub)
			if n := e.Stats().Total; n != 0 {
				t.Errorf("the agent sent %d requests before finding the command was not runnable", n)
			}
		})
	}
}
