package supervise

import (
	"os"
	"syscall"
	"unsafe"
)

// Signals returns the signals a supervising agent catches (os/signal.Notify)
// so that it can pass them on: every signal but SIGKILL and SIGSTOP (which
// cannot be caught), SIGCHLD (the reaper's) and SIGURG (the Go runtime's).
// With a terminal (tty), the job-control signals SIGTSTP, SIGTTIN and
// SIGTTOU are left to their default action: the terminal sends them to
// the whole foreground process group, which holds the agent and its child,
// and both stop and continue together as one job.
func Signals(tty bool) []os.Signal {
	var sigs []os.Signal
	for n := syscall.Signal(1); n <= 64; n++ {
		switch n {
		case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG, 32, 33:
			// 32 and 33 are the C library's own (thread cancellation, setxid).
			continue
		case syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
			if tty {
				continue
			}
		}
		sigs = append(sigs, n)
	}
	return sigs
}

// Forward reports whether a signal the agent caught should be passed on
// to its child. Not passed on are SIGCHLD and SIGURG; SIGPIPE, which the
// kernel sends the agent for its own writes to a closed pipe; and, with a
// terminal (tty), SIGINT and SIGQUIT: the terminal sends Ctrl-C and Ctrl-\
// to its whole foreground process group, child included, and forwarding
// them would deliver them twice.
//
// The child shares the agent's process group rather than getting its own:
// in its own group it would be a background job of the terminal, and
// reading from the terminal would stop it.
func Forward(sig syscall.Signal, tty bool) bool {
	switch sig {
	case syscall.SIGCHLD, syscall.SIGURG, syscall.SIGPIPE:
		return false
	case syscall.SIGINT, syscall.SIGQUIT:
		return !tty
	}
	return true
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
