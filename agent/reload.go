package agent

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/kv-agent/agent/agent/credential"
	"github.com/kv-agent/agent/agent/keyvault"
	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/render"
)

// configSettle is how long the manifest and template files must be quiet
// before a reload: editors and Kubernetes write them in several steps.
const configSettle = 300 * time.Millisecond

// fileEvents turns fsnotify events into the two things the watcher acts
// on: the configuration changed (manifest or a template file, or the
// directory they live in, such as a ConfigMap's ..data swap), and a
// rendered file was touched. It watches directories, not files, because
// files are replaced by rename.
type fileEvents struct {
	fsw     *fsnotify.Watcher
	log     *slog.Logger
	config  chan struct{}
	touched chan string
	done    chan struct{}
	wg      sync.WaitGroup

	mu         sync.Mutex
	configDirs map[string]bool
	outputs    map[string]bool
	dirs       map[string]bool
}

func watchFiles(log *slog.Logger) (*fileEvents, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch files: %w", err)
	}
	fe := &fileEvents{fsw: fsw, log: log, config: make(chan struct{}, 1), touched: make(chan string, 64),
		done: make(chan struct{}), configDirs: map[string]bool{}, outputs: map[string]bool{}, dirs: map[string]bool{}}
	fe.wg.Go(fe.loop)
	return fe, nil
}

func (fe *fileEvents) close() {
	close(fe.done)
	fe.fsw.Close()
	fe.wg.Wait()
}

// configChanged fires after the configuration files settled; nil-safe.
func (fe *fileEvents) configChanged() <-chan struct{} {
	if fe == nil {
		return nil
	}
	return fe.config
}

// outputTouched gives the path of a rendered file that changed; nil-safe.
func (fe *fileEvents) outputTouched() <-chan string {
	if fe == nil {
		return nil
	}
	return fe.touched
}

// set watches the manifest, the template files of p and the written files.
func (fe *fileEvents) set(p *plan, written map[string]render.File) {
	fe.mu.Lock()
	fe.configDirs = map[string]bool{}
	if p.m.Path != environmentSource { // agent run --watch without a manifest file
		fe.configDirs[filepath.Dir(p.m.Path)] = true
	}
	for _, f := range p.m.Files {
		if f.TemplateFile != "" {
			fe.configDirs[filepath.Dir(f.TemplateFile)] = true
		}
	}
	fe.outputs = make(map[string]bool, len(written))
	for path := range written {
		fe.outputs[path] = true
	}
	want := map[string]bool{}
	for d := range fe.configDirs {
		want[d] = true
	}
	for path := range written {
		want[filepath.Dir(path)] = true
	}
	fe.mu.Unlock()
	for d := range want {
		fe.add(d)
	}
}

// watchDir (re)watches the directory of path, e.g. after it was recreated.
func (fe *fileEvents) watchDir(path string) {
	fe.add(filepath.Dir(path))
}

func (fe *fileEvents) add(dir string) {
	if err := fe.fsw.Add(dir); err != nil {
		fe.log.Debug("cannot watch directory", "dir", dir, "err", err)
		return
	}
	fe.mu.Lock()
	fe.dirs[dir] = true
	fe.mu.Unlock()
}

func (fe *fileEvents) loop() {
	var settle *time.Timer
	var settled <-chan time.Time
	for {
		select {
		case <-fe.done:
			return
		case err, ok := <-fe.fsw.Errors:
			if !ok {
				return
			}
			fe.log.Warn("file watch error", "err", err)
		case ev, ok := <-fe.fsw.Events:
			if !ok {
				return
			}
			isConfig, isOutput := fe.classify(ev)
			if isOutput {
				select {
				case fe.touched <- ev.Name:
				default: // the check's verification catches what is dropped here
				}
			}
			if isConfig {
				if settle != nil {
					settle.Stop()
				}
				settle = time.NewTimer(configSettle)
				settled = settle.C
			}
		case <-settled:
			settled = nil
			select {
			case fe.config <- struct{}{}:
			default:
			}
		}
	}
}

// classify says whether ev concerns the configuration or a rendered file.
// The agent's own temporary files are neither.
func (fe *fileEvents) classify(ev fsnotify.Event) (isConfig, isOutput bool) {
	name := filepath.Clean(ev.Name)
	base := filepath.Base(name)
	if strings.Contains(base, ".agent-tmp-") || strings.Contains(base, ".agent-bak-") {
		return false, false
	}
	fe.mu.Lock()
	defer fe.mu.Unlock()
	if fe.outputs[name] {
		return false, true
	}
	if ev.Op == fsnotify.Chmod {
		return false, false
	}
	return fe.configDirs[filepath.Dir(name)], false
}

// reloadManifest loads the manifest again. An invalid one is logged and
// the running configuration kept; a valid, different one is applied with
// a full fetch and render, and replaces the running one only if that
// succeeds. An unchanged one is logged at debug level when asked for
// (SIGHUP, a file event); the catch-up read after the first render is
// silent about it.
func (w *watcher) reloadManifest(ctx context.Context, logUnchanged bool) {
	load := w.cfg.load
	if load == nil {
		load = func() (*plan, error) { return loadPlan(w.plan.m.Path) }
	}
	p, err := load()
	if err != nil {
		w.metrics.Reload(false)
		w.log.Error("manifest not reloaded; the previous one keeps running", "manifest", w.plan.m.Path, "err", err)
		return
	}
	if reflect.DeepEqual(p.m, w.plan.m) {
		if logUnchanged {
			w.log.Debug("manifest unchanged", "manifest", w.plan.m.Path)
		}
		return
	}
	sess, err := w.rebind(p.m)
	if err != nil {
		w.metrics.Reload(false)
		w.log.Error("manifest not reloaded; the previous one keeps running", "manifest", w.plan.m.Path, "err", err)
		return
	}
	if err := w.renderAll(ctx, p, sess, false); err != nil {
		w.metrics.Reload(false)
		w.log.Error("manifest not reloaded: its outputs could not be rendered; the previous one keeps running", "manifest", w.plan.m.Path, "err", err)
		return
	}
	if sess.fetcher != w.sess.fetcher {
		w.checker = keyvault.NewChecker(sess.fetcher)
	}
	w.sess = sess
	w.metrics.Reload(true)
	w.log.Info("manifest reloaded", "manifest", p.m.Path, "files", len(p.files), "secrets", len(p.m.Secrets))
}

// rebind returns a session for m. Credentials and the fetcher are kept
// when the identities and the cloud are the same, so tokens and
// connections carry over; otherwise they are built anew (the in-process
// emulator, if any, is kept).
func (w *watcher) rebind(m *manifest.Manifest) (*session, error) {
	old := w.sess
	ns := &session{m: m, log: old.log, creds: old.creds, fetcher: old.fetcher, emu: old.emu}
	if sameIdentities(old.m, m) {
		return ns, nil
	}
	getenv := envMap(w.cfg.environ).get
	if old.emu != nil {
		getenv = func(string) string { return "" }
	}
	client := old.transportClient()
	ns.creds = map[string]*credential.Credential{}
	for _, name := range usedIdentities(m) {
		cred, err := credential.New(m.Identities[name], credential.Options{
			Client: client, AuthorityHost: m.Cloud.AuthorityHost, Getenv: getenv,
			ProbeTimeout: w.cfg.settings.IMDSProbeTimeout, Logger: old.log,
		})
		if err != nil {
			return nil, &ExitError{Code: ExitConfig, Err: err}
		}
		ns.creds[name] = cred
	}
	ns.fetcher = newWatchFetcher(w.cfg.settings, m, client, old.log, w.metrics)
	return ns, nil
}

// sameIdentities reports whether a and b have the same cloud and
// identities (positions aside).
func sameIdentities(a, b *manifest.Manifest) bool {
	if a.Cloud != b.Cloud || len(a.Identities) != len(b.Identities) {
		return false
	}
	for name, ia := range a.Identities {
		ib, ok := b.Identities[name]
		if !ok {
			return false
		}
		x, y := *ia, *ib
		x.Pos, y.Pos = manifest.Pos{}, manifest.Pos{}
		if x != y {
			return false
		}
	}
	return true
}
