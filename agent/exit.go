package agent

import (
	"errors"
	"fmt"
)

// Exit codes. They follow sysexits(3) where one fits; the README has the
// table, and each failure kind maps to exactly one code.
const (
	ExitOK          = 0
	ExitFailure     = 1   // a check found problems (agent check), nothing else
	ExitUsage       = 64  // bad command line or invalid AGENT_* setting
	ExitDataErr     = 65  // invalid manifest, template or seed
	ExitNoInput     = 66  // a referenced secret is missing, disabled, expired or not yet valid; manifest not found
	ExitUnavailable = 69  // no credential source worked, or Azure could not be reached
	ExitSoftware    = 70  // internal error (a bug)
	ExitCantCreat   = 73  // an output file could not be written
	ExitTempFail    = 75  // throttled, server errors or deadline exceeded after retries
	ExitNoPerm      = 77  // authentication failed or access denied
	ExitConfig      = 78  // configuration the agent cannot use (credential files, users, ...)
	ExitInterrupted = 130 // SIGINT or SIGTERM arrived before a one-shot run finished
	ExitNotExec     = 126
	ExitNotFound    = 127
)

// ExitError carries the process exit code for an error. It is found with
// errors.As; an error without one exits with ExitSoftware.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// exitf returns an *ExitError with code and a formatted message (%w allowed).
func exitf(code int, format string, args ...any) error {
	return &ExitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// withCode attaches code to err unless err already carries one.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	return &ExitError{Code: code, Err: err}
}

// exitCode returns the exit code for err.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitSoftware
}
