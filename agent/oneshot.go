package agent

import "runtime/debug"

// tuneForOneShot trades memory for time in commands that exit after one
// run (render, check, run before the exec): their heap stays small, and
// fewer collections during start-up shave milliseconds off a boot step.
// Long-running modes (watch) keep the default.
func tuneForOneShot() { debug.SetGCPercent(400) }
