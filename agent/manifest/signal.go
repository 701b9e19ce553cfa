package manifest

import (
	"strings"
)

// signalNames are the signals a manifest may name: those a program can
// catch and act on. SIGKILL and SIGSTOP cannot be caught, so they are not
// useful as reload or stop signals and are refused.
var signalNames = []string{"SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2",
	"SIGWINCH", "SIGALRM", "SIGCONT", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGPIPE", "SIGPWR"}

// signal decodes a signal name such as "SIGHUP"; "HUP" is accepted too.
// It returns the normalised "SIG…" name, or "" when invalid (reported).
func (p *parser) signal(o *object, key string) string {
	s, ok := o.str(key)
	if !ok {
		return ""
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	for _, v := range signalNames {
		if v == name {
			return v
		}
	}
	p.errorAt(o.pos(key), o.field(key), "unknown signal %q (valid: %s)%s", s, strings.Join(signalNames, ", "), didYouMean(name, signalNames))
	return ""
}
