package agent

import (
	"sort"
	"time"

	"github.com/kv-agent/agent/render"
)

// Restoring rendered files that someone else deleted or altered is rate
// limited per file: after a restore, the next one waits restoreMinGap;
// each further restore within restoreQuiet of the previous doubles the
// wait, up to restoreMaxGap. A file that is fought over is thus rewritten
// at most once a minute, and each restore is logged.
const (
	restoreMinGap = time.Second
	restoreMaxGap = time.Minute
	restoreQuiet  = time.Minute
)

// restorer remembers, per path, when it was last restored and which
// restores wait for their turn.
type restorer struct {
	now     func() time.Time
	last    map[string]time.Time
	gap     map[string]time.Duration
	pending map[string]time.Time // path → when it may be restored
	timer   *time.Timer
}

func newRestorer(now func() time.Time) *restorer {
	return &restorer{now: now, last: map[string]time.Time{}, gap: map[string]time.Duration{}, pending: map[string]time.Time{}}
}

// due fires when a pending restore may run; nil when none is pending.
func (r *restorer) due() <-chan time.Time {
	if r == nil || r.timer == nil {
		return nil
	}
	return r.timer.C
}

// allowed reports whether path may be restored now; if not, it is queued.
func (r *restorer) allowed(path string) bool {
	now := r.now()
	at := r.last[path].Add(r.gap[path])
	if r.last[path].IsZero() || !now.Before(at) {
		return true
	}
	r.pending[path] = at
	r.arm()
	return false
}

// done records a restore of path at now.
func (r *restorer) done(path string) {
	now := r.now()
	gap := restoreMinGap
	if last, ok := r.last[path]; ok && now.Sub(last) < restoreQuiet {
		gap = min(2*r.gap[path], restoreMaxGap)
	}
	r.last[path], r.gap[path] = now, gap
}

// takeDue returns the pending paths whose turn has come, sorted.
func (r *restorer) takeDue() []string {
	now := r.now()
	var out []string
	for p, at := range r.pending {
		if !now.Before(at) {
			out = append(out, p)
			delete(r.pending, p)
		}
	}
	sort.Strings(out)
	r.timer = nil
	r.arm()
	return out
}

// arm sets the timer for the earliest pending restore.
func (r *restorer) arm() {
	var next time.Time
	for _, at := range r.pending {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if next.IsZero() {
		return
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer = time.NewTimer(max(next.Sub(r.now()), 0))
}

// restoreLater handles a change fsnotify saw on a rendered file: restore
// it now if its rate allows, else when its turn comes.
func (w *watcher) restoreLater(path string) {
	if _, ok := w.written[path]; !ok {
		return
	}
	if w.restore.allowed(path) {
		w.restoreFile(path)
	}
}

// restoreDue restores the files whose turn came.
func (w *watcher) restoreDue() {
	for _, p := range w.restore.takeDue() {
		w.restoreFile(p)
	}
}

// restoreFile puts back what the agent last wrote at path when the file is
// missing or differs (bytes, mode, owner). The agent's own writes come back
// here as events too and find the file as written: nothing happens.
func (w *watcher) restoreFile(path string) {
	f, ok := w.written[path]
	if !ok {
		return
	}
	results, err := render.WriteAll([]render.File{f})
	if err != nil {
		w.log.Error("cannot restore rendered file", "path", path, "err", err)
		return
	}
	if results[0].Changed {
		w.restore.done(path)
		w.metrics.Restored()
		w.log.Warn("rendered file was deleted or altered; restored it", "path", path)
	}
	if w.files != nil {
		w.files.watchDir(path)
	}
}

// verifyOutputs restores, before each check, the rendered files that
// changed without fsnotify noticing (rate limits still apply).
func (w *watcher) verifyOutputs() {
	paths := make([]string, 0, len(w.written))
	for p := range w.written {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if _, queued := w.restore.pending[p]; queued {
			continue
		}
		if w.restore.allowed(p) {
			w.restoreFile(p)
		}
	}
}
