package supervise

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperVar makes the test binary act as a child program (TestMain):
// SUPERVISE_TEST_HELPER=action, arguments in os.Args[1:].
const helperVar = "SUPERVISE_TEST_HELPER"

func TestMain(m *testing.M) {
	if action := os.Getenv(helperVar); action != "" {
		os.Exit(helper(action, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// helper is the child program's actions.
func helper(action string, args []string) int {
	switch action {
	case "exit":
		n, _ := strconv.Atoi(args[0])
		return n
	case "killself": // die of signal args[0]
		n, _ := strconv.Atoi(args[0])
		signal.Reset()
		_ = syscall.Kill(os.Getpid(), syscall.Signal(n))
		time.Sleep(10 * time.Second)
		return 99
	case "trap": // SIGUSR1 → exit 10, SIGTERM → exit 20; ready file args[0]
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGUSR1, syscall.SIGTERM)
		_ = os.WriteFile(args[0], nil, 0o600)
		select {
		case s := <-ch:
			if s == syscall.SIGUSR1 {
				return 10
			}
			return 20
		case <-time.After(20 * time.Second):
			return 98
		}
	case "ignore-term": // ignore SIGTERM; ready file args[0]
		signal.Ignore(syscall.SIGTERM)
		_ = os.WriteFile(args[0], nil, 0o600)
		time.Sleep(20 * time.Second)
		return 97
	case "orphans": // start args[0] grandchildren that outlive this process by a little
		n, _ := strconv.Atoi(args[0])
		for range n {
			cmd := exec.Command(os.Args[0], "50")
			cmd.Env = helperEnv("sleepms")
			if err := cmd.Start(); err != nil {
				return 96
			}
		}
		return 0
	case "sleepms":
		n, _ := strconv.Atoi(args[0])
		time.Sleep(time.Duration(n) * time.Millisecond)
		return 0
	case "subreaper": // act as PID 1: reap orphans (see TestReaperReapsOrphans)
		return subreaperMain(args)
	}
	return 95
}

// helperEnv is the environment of a helper doing action.
func helperEnv(action string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, helperVar+"=") {
			env = append(env, kv)
		}
	}
	return append(env, helperVar+"="+action)
}

// startHelper starts the test binary as a child doing action.
func startHelper(t *testing.T, r *Reaper, action string, args ...string) *Child {
	t.Helper()
	env := helperEnv(action)
	c, err := r.Start(os.Args[0], append([]string{os.Args[0]}, args...), env, ChildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Signal(syscall.SIGKILL); c.Wait() })
	return c
}

func newReaper(t *testing.T) *Reaper {
	r := NewReaper(false)
	t.Cleanup(r.Close)
	return r
}

func waitFile(t *testing.T, path string, c *Child) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-c.Done():
			t.Fatalf("child exited with %d before it was ready", c.Wait())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("child never became ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestChildExitCode(t *testing.T) {
	t.Parallel()
	r := newReaper(t)
	cases := []struct {
		name   string
		action string
		args   []string
		want   int
	}{
		{"exit 0", "exit", []string{"0"}, 0},
		{"exit 3", "exit", []string{"3"}, 3},
		{"exit 42", "exit", []string{"42"}, 42},
		{"killed by SIGKILL", "killself", []string{"9"}, 137},
		{"killed by SIGTERM", "killself", []string{"15"}, 143},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := startHelper(t, r, tc.action, tc.args...)
			if got := c.Wait(); got != tc.want {
				t.Errorf("exit code %d, want %d", got, tc.want)
			}
			if err := c.Signal(syscall.SIGTERM); !errors.Is(err, ErrExited) {
				t.Errorf("Signal after exit = %v, want ErrExited", err)
			}
		})
	}
}

func TestChildSignalAndStop(t *testing.T) {
	t.Parallel()
	r := newReaper(t)
	t.Run("a signal reaches the handler", func(t *testing.T) {
		t.Parallel()
		ready := filepath.Join(t.TempDir(), "ready")
		c := startHelper(t, r, "trap", ready)
		waitFile(t, ready, c)
		if err := c.Signal(syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		if got := c.Wait(); got != 10 {
			t.Errorf("exit code %d, want the handler's 10", got)
		}
	})
	t.Run("stop: the child exits on SIGTERM", func(t *testing.T) {
		t.Parallel()
		ready := filepath.Join(t.TempDir(), "ready")
		c := startHelper(t, r, "trap", ready)
		waitFile(t, ready, c)
		code, killed := c.Stop(syscall.SIGTERM, 10*time.Second)
		if code != 20 || killed {
			t.Errorf("Stop = %d, %v; want the handler's 20, not killed", code, killed)
		}
	})
	t.Run("stop: SIGKILL after the timeout", func(t *testing.T) {
		t.Parallel()
		ready := filepath.Join(t.TempDir(), "ready")
		c := startHelper(t, r, "ignore-term", ready)
		waitFile(t, ready, c)
		start := time.Now()
		code, killed := c.Stop(syscall.SIGTERM, 300*time.Millisecond)
		took := time.Since(start)
		if code != 137 || !killed {
			t.Errorf("Stop = %d, %v; want 137, killed", code, killed)
		}
		if took < 300*time.Millisecond || took > 5*time.Second {
			t.Errorf("Stop took %s with a 300ms timeout", took)
		}
	})
}

func TestStartFailures(t *testing.T) {
	t.Parallel()
	r := newReaper(t)
	dir := t.TempDir()
	cases := []struct {
		path string
		code int
		msg  string
	}{
		{filepath.Join(dir, "missing"), 127, "No such file or directory"},
		{dir, 126, ""},
	}
	for _, tc := range cases {
		_, err := r.Start(tc.path, []string{tc.path}, nil, ChildOptions{})
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.code || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Start(%s) = %v; want code %d", tc.path, err, tc.code)
		}
	}
}

// TestReaperReapsOrphans runs the test binary as a subreaper (the role of
// PID 1): its child leaves grandchildren behind as orphans; the reaper
// reaps them, still hands the child its status, and leaves an os/exec
// command's status to its Wait.
func TestReaperReapsOrphans(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "3")
	cmd.Env = helperEnv("subreaper")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("subreaper: %v\n%s", err, out)
	}
}

func subreaperMain(args []string) int {
	n, _ := strconv.Atoi(args[0])
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		fmt.Println("prctl:", errno)
		return 1
	}
	r := NewReaper(true)
	defer r.Close()
	c, err := r.Start(os.Args[0], []string{os.Args[0], args[0]}, helperEnv("orphans"), ChildOptions{})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	if code := c.Wait(); code != 0 {
		fmt.Println("child exit code", code)
		return 1
	}
	cmd := exec.Command(os.Args[0], "7")
	cmd.Env = helperEnv("exit")
	var ee *exec.ExitError
	if err := r.Run(cmd); !errors.As(err, &ee) || ee.ExitCode() != 7 {
		fmt.Println("os/exec command lost its status:", err)
		return 1
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.Orphans() < n || zombies() > 0 {
		if time.Now().After(deadline) {
			fmt.Printf("reaped %d orphans of %d; %d zombies left\n", r.Orphans(), n, zombies())
			return 1
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0
}

// zombies counts this process's children in state Z.
func zombies() int {
	n := 0
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[0] == "Z" && fields[1] == strconv.Itoa(os.Getpid()) {
			n++
		}
	}
	return n
}
