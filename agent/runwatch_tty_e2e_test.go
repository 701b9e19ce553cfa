//go:build linux

package agent_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal and returns its master and slave ends.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ENXIO) {
		t.Skipf("this machine offers no pseudo-terminals: %v", err)
	}
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlock pseudo-terminal: %v", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("pseudo-terminal number: %v", errno)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pseudo-terminal slave: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// TestRunWatchInATerminal: `agent run --watch` started by a shell with job
// control in a terminal. Ctrl-C and Ctrl-\ reach the child once (the
// terminal sends them to the foreground job's process group, which holds
// the agent and the child; the agent does not pass them on a second
// time), and the agent keeps running; Ctrl-Z stops both, and SIGCONT (the
// shell's bg) continues both; the child is never restarted.
func TestRunWatchInATerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", runWatchManifest("", "watch: {interval: 1h}\n"))
	evf := filepath.Join(dir, "events")
	master, slave := openPTY(t)
	go func() { _, _ = io.Copy(io.Discard, master) }() // what the terminal shows

	// The shell leads a new session on the pseudo-terminal and runs the
	// agent as a foreground job; "read" keeps it alive after the job.
	shell := exec.Command("/bin/sh", "-c", `set -m; "$0" "$@"; read x`,
		agentBin, "run", "--watch", "-m", mf, "--", childBin(t), "wait", evf, "0")
	shell.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, e.Env()...)
	shell.Stdin, shell.Stdout, shell.Stderr = slave, slave, slave
	shell.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := shell.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = shell.Process.Kill()
		_ = shell.Wait()
	})
	waitFor(t, 20*time.Second, "the child", func() bool { return len(started(evf)) == 1 })
	child := started(evf)[0]
	agent := procParent(child)
	if agent <= 0 || agent == shell.Process.Pid {
		t.Fatalf("the child's parent is %d, want the agent (the shell is %d)", agent, shell.Process.Pid)
	}
	t.Cleanup(func() { // if the test stops early: the job, then a stopped child
		_ = syscall.Kill(-agent, syscall.SIGKILL)
		_ = syscall.Kill(child, syscall.SIGKILL)
	})

	count := func(what string) int {
		n := 0
		for _, ev := range events(evf) {
			if ev.pid == child && ev.what == what {
				n++
			}
		}
		return n
	}
	for _, key := range []struct {
		char byte
		sig  string
	}{{0x03, "SIGINT"}, {0x1c, "SIGQUIT"}} {
		if _, err := master.Write([]byte{key.char}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, key.sig+" at the child", func() bool { return count(key.sig) > 0 })
		time.Sleep(500 * time.Millisecond) // time for a second delivery, if there were one
		if n := count(key.sig); n != 1 {
			t.Errorf("the child got %s %d times from one keystroke, want once:\n%s", key.sig, n, eventsString(evf))
		}
		if !alive(agent) {
			t.Fatalf("the agent exited after %s; it must leave that to the child", key.sig)
		}
	}

	if _, err := master.Write([]byte{0x1a}); err != nil { // Ctrl-Z
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the agent and the child stopped", func() bool {
		return procState(agent) == 'T' && procState(child) == 'T'
	})
	if err := syscall.Kill(-agent, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the agent and the child running again", func() bool {
		return procState(agent) != 'T' && procState(child) != 'T'
	})
	if n := len(started(evf)); n != 1 {
		t.Errorf("%d children started, want 1:\n%s", n, eventsString(evf))
	}

	if err := syscall.Kill(agent, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the agent to exit after SIGTERM", func() bool {
		return !alive(agent)
	})
	if count("SIGTERM") != 1 {
		t.Errorf("the child did not get SIGTERM once:\n%s", eventsString(evf))
	}
}
