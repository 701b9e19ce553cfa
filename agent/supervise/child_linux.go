package supervise

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// ErrExited is returned by [Child.Signal] once the child has exited and
// been reaped: its PID may already belong to another process.
var ErrExited = errors.New("the child has exited")

// ChildOptions are how [Reaper.Start] starts a child.
type ChildOptions struct {
	// User, when not nil, is the user and groups the child runs as
	// (setgroups, setgid, setuid in the new process before it execs).
	User *UserSpec
	// Stdin, Stdout and Stderr are the child's standard streams; nil means
	// the agent's own (file descriptors 0, 1 and 2).
	Stdin, Stdout, Stderr *os.File
}

// Child is a program started by [Reaper.Start]. Its methods are safe for
// concurrent use. It stays in the agent's process group: see the package
// documentation for what that means for a terminal's signals.
type Child struct {
	r    *Reaper
	pid  int
	done chan struct{}
	// set by the reaper, under r.mu, before done is closed
	exited bool
	status syscall.WaitStatus
}

// Pid returns the child's process ID.
func (c *Child) Pid() int { return c.pid }

// Signal sends sig to the child. It returns ErrExited once the child was
// reaped, so a signal never reaches a process that reused the PID.
func (c *Child) Signal(sig syscall.Signal) error {
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	if c.exited {
		return ErrExited
	}
	if err := syscall.Kill(c.pid, sig); err != nil {
		return &os.SyscallError{Syscall: "kill", Err: err}
	}
	return nil
}

// Done is closed when the child has exited and been reaped.
func (c *Child) Done() <-chan struct{} { return c.done }

// Wait blocks until the child has exited and returns its exit code: the
// code it exited with, or 128+N when signal N killed it.
func (c *Child) Wait() int {
	<-c.done
	return ExitCode(c.status)
}

// Stop sends sig (typically SIGTERM) and waits up to timeout for the child
// to exit; if it has not by then, Stop sends SIGKILL and waits for it. It
// returns the child's exit code and whether SIGKILL was needed. Stopping a
// child that already exited only returns its code.
func (c *Child) Stop(sig syscall.Signal, timeout time.Duration) (code int, killed bool) {
	if err := c.Signal(sig); err != nil {
		return c.Wait(), false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.done:
		return c.Wait(), false
	case <-t.C:
	}
	if err := c.Signal(syscall.SIGKILL); err != nil {
		return c.Wait(), false
	}
	return c.Wait(), true
}

// ExitCode is a shell's view of a wait status: the exit code, or 128+N
// when signal N killed the process.
func ExitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// Start starts the program at path (as found by [LookPath]) with argv
// (argv[0] included) and exactly env, and registers it with the reaper,
// which collects its exit status. A failure to execute it is an *Error
// with the shell's code (127, 126), as for [Exec].
func (r *Reaper) Start(path string, argv, env []string, o ChildOptions) (*Child, error) {
	sys := &syscall.SysProcAttr{}
	if u := o.User; u != nil {
		groups := make([]uint32, len(u.Groups))
		for i, g := range u.Groups {
			groups[i] = uint32(g)
		}
		sys.Credential = &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: groups}
	}
	attr := &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{fdOr(o.Stdin, 0), fdOr(o.Stdout, 1), fdOr(o.Stderr, 2)},
		Sys:   sys,
	}
	// The reaper must not see the new process before it is registered.
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return nil, execError(path, err)
	}
	c := &Child{r: r, pid: pid, done: make(chan struct{})}
	r.children[pid] = c
	r.kick() // it may have exited already
	return c, nil
}

func fdOr(f *os.File, fd uintptr) uintptr {
	if f == nil {
		return fd
	}
	return f.Fd()
}
