package agent

import "syscall"

// signalsByName are the signals a manifest may name (see agent/manifest).
var signalsByName = map[string]syscall.Signal{
	"SIGHUP": syscall.SIGHUP, "SIGINT": syscall.SIGINT, "SIGQUIT": syscall.SIGQUIT, "SIGTERM": syscall.SIGTERM,
	"SIGUSR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2, "SIGWINCH": syscall.SIGWINCH, "SIGALRM": syscall.SIGALRM,
	"SIGCONT": syscall.SIGCONT, "SIGTSTP": syscall.SIGTSTP, "SIGTTIN": syscall.SIGTTIN, "SIGTTOU": syscall.SIGTTOU,
	"SIGPIPE": syscall.SIGPIPE, "SIGPWR": syscall.SIGPWR,
}
