//go:build !linux

package supervise

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

var errLinuxOnly = errors.New("agent run --watch is supported on Linux only")

// ErrExited is returned by Child.Signal once the child has exited.
var ErrExited = errors.New("the child has exited")

// ChildOptions are how Reaper.Start starts a child.
type ChildOptions struct {
	User                  *UserSpec
	Stdin, Stdout, Stderr *os.File
}

// Reaper is implemented on Linux only.
type Reaper struct{}

// NewReaper returns a reaper that cannot start children.
func NewReaper(orphans bool) *Reaper { return &Reaper{} }

// Close does nothing.
func (r *Reaper) Close() {}

// Orphans returns 0.
func (r *Reaper) Orphans() int { return 0 }

// Run runs cmd.
func (r *Reaper) Run(cmd *exec.Cmd) error { return cmd.Run() }

// Start fails: supervision is implemented on Linux only.
func (r *Reaper) Start(path string, argv, env []string, o ChildOptions) (*Child, error) {
	return nil, errLinuxOnly
}

// Child is implemented on Linux only.
type Child struct{}

// Pid returns 0.
func (c *Child) Pid() int { return 0 }

// Signal fails.
func (c *Child) Signal(sig syscall.Signal) error { return errLinuxOnly }

// Done is never closed.
func (c *Child) Done() <-chan struct{} { return nil }

// Wait returns 0.
func (c *Child) Wait() int { return 0 }

// Stop returns 0.
func (c *Child) Stop(sig syscall.Signal, timeout time.Duration) (int, bool) { return 0, false }

// Signals returns nil.
func Signals(tty bool) []os.Signal { return nil }

// Forward reports false.
func Forward(sig syscall.Signal, tty bool) bool { return false }

// IsTerminal reports false.
func IsTerminal(f *os.File) bool { return false }
