package supervise

import (
	"os"
	"slices"
	"syscall"
	"testing"
)

func TestForward(t *testing.T) {
	t.Parallel()
	cases := []struct {
		sig            syscall.Signal
		noTTY, withTTY bool
	}{
		{syscall.SIGTERM, true, true},
		{syscall.SIGUSR1, true, true},
		{syscall.SIGHUP, true, true}, // the agent decides what SIGHUP means
		{syscall.SIGINT, true, false},
		{syscall.SIGQUIT, true, false},
		{syscall.SIGCHLD, false, false},
		{syscall.SIGURG, false, false},
		{syscall.SIGPIPE, false, false},
	}
	for _, tc := range cases {
		if got := Forward(tc.sig, false); got != tc.noTTY {
			t.Errorf("Forward(%v, no tty) = %v", tc.sig, got)
		}
		if got := Forward(tc.sig, true); got != tc.withTTY {
			t.Errorf("Forward(%v, tty) = %v", tc.sig, got)
		}
	}
}

func TestSignals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		tty     bool
		want    []syscall.Signal
		notWant []syscall.Signal
	}{
		{false, []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGWINCH, syscall.SIGTSTP, syscall.SIGTTIN, 34, 64},
			[]syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG}},
		{true, []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM},
			[]syscall.Signal{syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGCHLD}},
	}
	for _, tc := range cases {
		sigs := Signals(tc.tty)
		for _, s := range tc.want {
			if !slices.Contains(sigs, os.Signal(s)) {
				t.Errorf("tty %v: Signals lacks %v", tc.tty, s)
			}
		}
		for _, s := range tc.notWant {
			if slices.Contains(sigs, os.Signal(s)) {
				t.Errorf("tty %v: Signals has %v", tc.tty, s)
			}
		}
	}
}
