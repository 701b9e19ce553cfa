//go:build !linux

package supervise

import "errors"

// Exec is implemented on Linux only.
func Exec(path string, argv, env []string, cred *UserSpec) error {
	return errors.New("agent run is supported on Linux only")
}
