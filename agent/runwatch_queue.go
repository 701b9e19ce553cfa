package agent

import (
	"context"
	"maps"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/kv-agent/agent/agent/manifest"
)

// changeQueue carries what the watcher saw to the supervisor: the first
// render, and then each change that concerns the child. The watcher's
// hooks fill it without blocking; the supervisor acts on what piled up
// once the changes went quiet (watch.wait.min after the last one) or had
// waited long enough (watch.wait.max after the first one), so changes
// arriving together restart or signal the child once.
type changeQueue struct {
	wake chan struct{} // one pending wake-up at most

	mu       sync.Mutex
	ready    bool              // the first render is done
	env      map[string]string // the env values rendered last
	watch    manifest.Watch    // the running manifest's watch settings
	restart  bool              // files changed and watch.onChange is restart
	envDirty bool              // env values changed
	sigs     []syscall.Signal  // to send, in order, once each
	first    time.Time         // of the pending changes; zero when none
	last     time.Time
}

func newChangeQueue() *changeQueue {
	return &changeQueue{wake: make(chan struct{}, 1)}
}

func (q *changeQueue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// hooks returns the watcher hooks that fill q. w returns the watcher; the
// hooks run on its goroutine, so they may read its plan and env.
func (q *changeQueue) hooks(w func() *watcher) watchHooks {
	return watchHooks{
		ready: func() {
			q.mu.Lock()
			q.ready, q.env, q.watch = true, maps.Clone(w().env), w().plan.m.Watch
			q.mu.Unlock()
			q.poke()
		},
		envChanged: func(_ context.Context, env map[string]string) {
			q.change(w().plan.m.Watch, func() { q.env, q.envDirty = maps.Clone(env), true })
		},
		filesChanged: func(_ context.Context, files []*manifest.File) {
			ws := w().plan.m.Watch
			// A file with its own onChange (a command, or a signal sent
			// through the signal hook) is handled by it; watch.onChange
			// applies to the others.
			plain := false
			for _, f := range files {
				plain = plain || f.OnChange == nil
			}
			if !plain || ws.OnChange == manifest.OnChangeNone {
				return
			}
			q.change(ws, func() {
				if ws.OnChange == manifest.OnChangeRestart {
					q.restart = true
					return
				}
				if sig, ok := watchSignal(ws.Signal); ok {
					q.addSignal(sig)
				}
			})
		},
		signal: func(sig syscall.Signal) error {
			q.change(w().plan.m.Watch, func() { q.addSignal(sig) })
			return nil
		},
	}
}

// change records a change. Before the first render completes there is no
// child to act on: the child starts with what that render produced.
func (q *changeQueue) change(ws manifest.Watch, record func()) {
	q.mu.Lock()
	if !q.ready {
		q.mu.Unlock()
		return
	}
	record()
	q.watch = ws
	now := time.Now()
	if q.first.IsZero() {
		q.first = now
	}
	q.last = now
	q.mu.Unlock()
	q.poke()
}

func (q *changeQueue) addSignal(sig syscall.Signal) {
	if !slices.Contains(q.sigs, sig) {
		q.sigs = append(q.sigs, sig)
	}
}

// due returns when the pending changes should be acted on; false when none
// is pending.
func (q *changeQueue) due() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.first.IsZero() {
		return time.Time{}, false
	}
	at := q.last.Add(q.watch.WaitMin)
	if limit := q.first.Add(q.watch.WaitMax); limit.Before(at) {
		at = limit
	}
	return at, true
}

// pendingChanges is what take hands the supervisor.
type pendingChanges struct {
	restart  bool // files changed and watch.onChange is restart
	envDirty bool
	env      map[string]string
	sigs     []syscall.Signal
	watch    manifest.Watch
}

// take returns the pending changes and clears them.
func (q *changeQueue) take() pendingChanges {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := pendingChanges{restart: q.restart, envDirty: q.envDirty, env: q.env, sigs: q.sigs, watch: q.watch}
	q.restart, q.envDirty, q.sigs, q.first, q.last = false, false, nil, time.Time{}, time.Time{}
	return p
}

// isReady reports whether the first render is done.
func (q *changeQueue) isReady() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ready
}

// settings returns the running manifest's watch settings.
func (q *changeQueue) settings() manifest.Watch {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.watch
}
