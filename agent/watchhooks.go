package agent

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kv-agent/agent/agent/manifest"
)

// afterChange runs what follows a change of files: each file's onChange
// command (an identical command once, in manifest order), or its signal
// for the child, then the mode's filesChanged hook.
func (w *watcher) afterChange(ctx context.Context, files []*manifest.File) {
	if len(files) == 0 {
		return
	}
	ran := map[string]bool{}
	for _, f := range files {
		oc := f.OnChange
		switch {
		case oc == nil:
		case len(oc.Command) > 0:
			key := strings.Join(oc.Command, "\x00")
			if ran[key] {
				continue
			}
			ran[key] = true
			w.runCommand(ctx, f.Path, oc)
		case oc.Signal != "":
			w.signalChild(f.Path, oc.Signal)
		}
	}
	if w.cfg.hooks.filesChanged != nil {
		w.cfg.hooks.filesChanged(ctx, files)
	}
}

// runCommand runs an onChange command with its timeout. Its output goes
// to the agent's stderr, never to the log; a failure is logged and
// counted, and does not fail the check.
func (w *watcher) runCommand(ctx context.Context, path string, oc *manifest.OnChange) {
	cctx, cancel := context.WithTimeout(ctx, oc.Timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, oc.Command[0], oc.Command[1:]...)
	// Like the child of agent run: no agent credentials, including the
	// variables the manifest's service principals read their secret from.
	scrub := credentialVars()
	if w.plan != nil {
		scrub = append(scrub, secretEnvVars(w.plan.m)...)
	}
	cmd.Env = append(withoutVars(w.cfg.environ, scrub), "AGENT_CHANGED_FILE="+path)
	cmd.Stdout, cmd.Stderr = w.cfg.output, w.cfg.output
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	run := cmd.Run
	if w.cfg.hooks.run != nil {
		run = func() error { return w.cfg.hooks.run(cmd) }
	}
	err := run()
	took := time.Since(start).Round(time.Millisecond)
	if err == nil {
		w.metrics.Command(true)
		w.log.Info("onChange command succeeded", "path", path, "command", oc.Command[0], "took", took)
		return
	}
	w.metrics.Command(false)
	var ee *exec.ExitError
	switch {
	case errors.Is(cctx.Err(), context.DeadlineExceeded):
		w.log.Error("onChange command timed out", "path", path, "command", oc.Command[0], "timeout", oc.Timeout)
	case errors.As(err, &ee):
		w.log.Error("onChange command failed", "path", path, "command", oc.Command[0], "exit_code", exitStatus(ee), "took", took)
	default:
		w.log.Error("onChange command could not start", "path", path, "command", oc.Command[0], "err", err)
	}
}

// exitStatus is the command's exit code, or 128+N when signal N killed it.
func exitStatus(ee *exec.ExitError) int {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// signalChild sends a file's onChange signal to the child, when there is
// one.
func (w *watcher) signalChild(path, name string) {
	sig, ok := watchSignal(name)
	if !ok {
		w.log.Error("unknown onChange signal", "path", path, "signal", name)
		return
	}
	if w.cfg.hooks.signal == nil {
		w.log.Warn("onChange signal needs a child; agent watch has none (use agent run --watch)", "path", path, "signal", name)
		return
	}
	if err := w.cfg.hooks.signal(sig); err != nil {
		w.log.Error("onChange signal not delivered", "path", path, "signal", name, "err", err)
	}
}

// watchSignal maps the manifest's signal names to signals.
func watchSignal(name string) (syscall.Signal, bool) {
	s, ok := signalsByName[name]
	return s, ok
}

// withoutVars returns environ without the named variables.
func withoutVars(environ, names []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, k) {
			out = append(out, kv)
		}
	}
	return out
}
