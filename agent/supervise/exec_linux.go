package supervise

import (
	"errors"
	"fmt"
	"syscall"
)

// Exec replaces the process with the program at path (as found by
// LookPath), with argv (argv[0] included) and exactly env. When cred is not
// nil it first sets the supplementary groups, the group and the user, in
// that order; Go applies these to every thread of the process.
//
// Exec returns only on failure: an *Error with the shell's exit code when
// the program could not be executed, or a plain error when switching user
// failed. File descriptors opened by Go are close-on-exec; stdin, stdout
// and stderr are inherited.
func Exec(path string, argv, env []string, cred *UserSpec) error {
	if cred != nil {
		if err := syscall.Setgroups(cred.Groups); err != nil {
			return fmt.Errorf("set groups for --user %s: %w", cred.Spec, err)
		}
		if err := syscall.Setgid(cred.GID); err != nil {
			return fmt.Errorf("set group %d for --user %s: %w", cred.GID, cred.Spec, err)
		}
		if err := syscall.Setuid(cred.UID); err != nil {
			return fmt.Errorf("set user %d for --user %s: %w", cred.UID, cred.Spec, err)
		}
	}
	return execError(path, syscall.Exec(path, argv, env))
}

// execError words a failed execve as a shell does.
func execError(path string, err error) error {
	e := &Error{Name: path, Code: CodeNotExecutable, Err: err}
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR):
		// A missing file, or a script whose interpreter is missing.
		e.Code, e.Msg = CodeNotFound, "No such file or directory"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		e.Msg = "Permission denied"
	case errors.Is(err, syscall.ENOEXEC):
		e.Msg = "cannot execute binary file: Exec format error"
	case errors.Is(err, syscall.EISDIR):
		e.Msg = "Is a directory"
	default:
		e.Msg = "cannot execute: " + err.Error()
	}
	return e
}
