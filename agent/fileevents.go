package agent

import (
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/kv-agent/agent/render"
)

// configSettle is how long the manifest and template files must be quiet
// before a reload: editors and Kubernetes write them in several steps.
const configSettle = 300 * time.Millisecond

// fileEvents turns fsnotify events into the two things the watcher acts
// on: the configuration changed, and rendered files were touched by
// someone else. It watches directories, not files, because files are
// replaced by rename.
//
// The configuration is the manifest and its template files, as named and
// as their symbolic links resolve, and in their directories the entries
// whose names begin with ".." (a Kubernetes ConfigMap volume swaps its
// "..data" link to update every file at once). Other files in those
// directories, such as a log the agent writes there, are not.
type fileEvents struct {
	fsw    *fsnotify.Watcher
	log    *slog.Logger
	config chan struct{} // the configuration changed and settled
	wake   chan struct{} // touched has paths
	done   chan struct{}
	wg     sync.WaitGroup

	mu          sync.Mutex
	configFiles map[string]bool
	configDirs  map[string]bool
	outputs     map[string]bool
	touched     map[string]bool // rendered files changed since takeTouched
}

func watchFiles(log *slog.Logger) (*fileEvents, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch files: %w", err)
	}
	fe := &fileEvents{fsw: fsw, log: log, config: make(chan struct{}, 1), wake: make(chan struct{}, 1),
		done: make(chan struct{}), touched: map[string]bool{}}
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

// outputsTouched fires when rendered files changed; takeTouched says
// which. Nil-safe.
func (fe *fileEvents) outputsTouched() <-chan struct{} {
	if fe == nil {
		return nil
	}
	return fe.wake
}

// takeTouched returns, sorted, the rendered files changed since it was
// last called. None is ever dropped, however busy the watcher was.
func (fe *fileEvents) takeTouched() []string {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	paths := make([]string, 0, len(fe.touched))
	for p := range fe.touched {
		paths = append(paths, p)
	}
	clear(fe.touched)
	sort.Strings(paths)
	return paths
}

// set watches the configuration of p (and the files in tried, template
// files a manifest that failed to load named), and the written files.
// It reports whether it began watching a directory it did not watch
// before: what happened there until now was not seen.
func (fe *fileEvents) set(p *plan, written map[string]render.File, tried []string) (added bool) {
	var names []string
	if p.m.Path != environmentSource { // agent run --watch without a manifest file
		names = append(names, p.m.Path)
	}
	for _, f := range p.m.Files {
		if f.TemplateFile != "" {
			names = append(names, f.TemplateFile)
		}
	}
	names = append(names, tried...)
	configFiles, configDirs := map[string]bool{}, map[string]bool{}
	for _, n := range names {
		abs, err := filepath.Abs(n)
		if err != nil {
			continue
		}
		configFiles[abs] = true
		if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
			configFiles[real] = true
		}
	}
	for f := range configFiles {
		configDirs[existingDir(filepath.Dir(f))] = true
	}
	outputs := make(map[string]bool, len(written))
	want := maps.Clone(configDirs)
	for path := range written {
		outputs[path] = true
		want[filepath.Dir(path)] = true
	}
	fe.mu.Lock()
	fe.configFiles, fe.configDirs, fe.outputs = configFiles, configDirs, outputs
	fe.mu.Unlock()
	watched := fe.fsw.WatchList()
	for d := range want {
		if !slices.Contains(watched, d) && fe.add(d) {
			added = true
		}
	}
	return added
}

// existingDir returns dir, or its nearest ancestor that exists: a
// template file's directory may be created after the manifest names it.
func existingDir(dir string) string {
	for {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		dir = parent
	}
}

// watchDir (re)watches the directory of path, e.g. after it was recreated.
func (fe *fileEvents) watchDir(path string) {
	fe.add(filepath.Dir(path))
}

func (fe *fileEvents) add(dir string) bool {
	if err := fe.fsw.Add(dir); err != nil {
		fe.log.Debug("cannot watch directory", "dir", dir, "err", err)
		return false
	}
	return true
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
				case fe.wake <- struct{}{}:
				default:
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

// classify says whether ev concerns the configuration or a rendered file,
// and records a touched rendered file. The agent's own temporary files
// are neither.
func (fe *fileEvents) classify(ev fsnotify.Event) (isConfig, isOutput bool) {
	name := filepath.Clean(ev.Name)
	base := filepath.Base(name)
	if strings.Contains(base, ".agent-tmp-") || strings.Contains(base, ".agent-bak-") {
		return false, false
	}
	fe.mu.Lock()
	defer fe.mu.Unlock()
	if fe.outputs[name] {
		fe.touched[name] = true
		return false, true
	}
	if ev.Op == fsnotify.Chmod {
		return false, false
	}
	if fe.configFiles[name] || fe.configDirs[filepath.Dir(name)] && strings.HasPrefix(base, "..") {
		return true, false
	}
	// A directory on the way to a configuration file (created, renamed).
	for f := range fe.configFiles {
		if strings.HasPrefix(f, name+string(filepath.Separator)) {
			return true, false
		}
	}
	return false, false
}
