// Package supervise starts the program that "agent run" wraps.
//
// Without --watch the agent does not supervise at all: it replaces itself
// with the program ([Exec]), which keeps the agent's PID, so the program
// receives signals sent to that PID and its exit code is the container's
// or unit's. Before that, [LookPath] finds the program the way a shell
// does and fails with the shell's wording and exit code (127 not found,
// 126 found but not executable), and [LookupUser] resolves the --user
// option (NAME|UID[:GROUP|GID]) that Exec switches to before it execs.
//
// With --watch the agent stays the program's parent. A [Reaper] is the
// single place that collects exit statuses: [Reaper.Start] starts the
// program as a [Child] (same environment rules, --user through the new
// process's credentials) and hands it its status, which [Child.Wait]
// returns as a shell would (the exit code, or 128+N when signal N killed
// it); [Child.Stop] sends a stop signal and SIGKILL after a timeout. When
// the agent is PID 1 the reaper also reaps the orphans reparented to it,
// and leaves the status of os/exec commands to their own Wait
// ([Reaper.Run]). [Signals] and [Forward] say which signals the agent
// catches and passes on: all but SIGCHLD and SIGURG, and, when stdin is a
// terminal, not SIGINT and SIGQUIT, which the terminal already delivers to
// the child (it stays in the agent's process group, so it can still read
// the terminal).
//
// Failures to start the program are *Error values carrying the exit code a
// shell would give. Linux is the target platform; Exec, Start and the
// reaper are implemented only there.
package supervise

import "strings"

// Exit codes a shell gives when it cannot run a command.
const (
	CodeNotExecutable = 126 // found, but not executable (permission, directory, format)
	CodeNotFound      = 127 // not found
)

// Error is a failure to run a command, worded as a shell words it
// ("app: command not found") and carrying the shell's exit code.
type Error struct {
	Name string // the command as given
	Code int    // CodeNotFound or CodeNotExecutable
	Msg  string // e.g. "command not found", "Permission denied"
	Err  error  // the underlying error, if any
}

func (e *Error) Error() string { return e.Name + ": " + e.Msg }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Hint says what to check, or "".
func (e *Error) Hint() string {
	switch {
	case e.Code == CodeNotFound && !strings.Contains(e.Name, "/"):
		return "the command is looked up in the child's PATH; give its absolute path or fix PATH"
	case e.Msg == "Permission denied":
		return "make the file executable (chmod +x) for the user the command runs as"
	}
	return ""
}
