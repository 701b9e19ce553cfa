package agent

import (
	"fmt"
	"log/slog"
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
// The configuration is the manifest and its template files as named,
// every symbolic link on the way to them and where they lead (a deploy
// re-points current -> releases/N), the entries of their directories
// whose names begin with ".." (a Kubernetes ConfigMap volume swaps its
// "..data" link to update every file at once), and the directories on
// the way to a template file that does not exist yet. Other files in
// those directories, such as a log the agent writes there, are not.
type fileEvents struct {
	fsw    *fsnotify.Watcher
	log    *slog.Logger
	config chan struct{} // the configuration changed and settled
	wake   chan struct{} // touched has paths
	done   chan struct{}
	wg     sync.WaitGroup

	// watched is each watched directory, by the name it was added under,
	// and what it was then. Only the watcher's goroutine (set, watchDir)
	// uses it.
	watched map[string]os.FileInfo

	mu          sync.Mutex
	configFiles map[string]bool
	configDirs  map[string]bool
	outputs     map[string]bool
	aliases     map[string][]string // watched directory → its other names in use
	touched     map[string]bool     // rendered files changed since takeTouched
}

func watchFiles(log *slog.Logger) (*fileEvents, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch files: %w", err)
	}
	fe := &fileEvents{fsw: fsw, log: log, config: make(chan struct{}, 1), wake: make(chan struct{}, 1),
		done: make(chan struct{}), watched: map[string]os.FileInfo{}, touched: map[string]bool{}}
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

// set watches the configuration of p (and named: template files a
// manifest that is not running yet names), and the written files. It
// reports whether it began watching a directory, or counting a file as
// configuration, that it did not before: what happened there until now
// was not seen.
func (fe *fileEvents) set(p *plan, written map[string]render.File, named []string) (added bool) {
	var names []string
	if p.m.Path != environmentSource { // agent run --watch without a manifest file
		names = append(names, p.m.Path)
	}
	for _, f := range p.m.Files {
		if f.TemplateFile != "" {
			names = append(names, f.TemplateFile)
		}
	}
	names = append(names, named...)
	// Directories as the manifest names them come first, those only
	// reached through links after: a directory with two names is watched
	// under the first, and events under it are matched by both.
	configFiles, configDirs := map[string]bool{}, map[string]bool{}
	var namedDirs, linkDirs []string
	for _, n := range names {
		abs, err := filepath.Abs(n)
		if err != nil {
			continue
		}
		configFiles[abs] = true
		namedDirs = append(namedDirs, existingDir(filepath.Dir(abs)))
		for _, l := range linkChain(abs) {
			configFiles[l] = true
			linkDirs = append(linkDirs, existingDir(filepath.Dir(l)))
		}
	}
	for _, d := range append(namedDirs, linkDirs...) {
		configDirs[d] = true
	}
	outputs := make(map[string]bool, len(written))
	for path := range written {
		outputs[path] = true
		namedDirs = append(namedDirs, filepath.Dir(path))
	}
	slices.Sort(namedDirs)
	slices.Sort(linkDirs)
	fe.prune()
	aliases := map[string][]string{}
	for _, d := range append(slices.Compact(namedDirs), slices.Compact(linkDirs)...) {
		fi, err := os.Stat(d)
		if err != nil {
			continue
		}
		w, ok := fe.watching(fi)
		if !ok {
			if !fe.add(d) {
				continue
			}
			w, added = d, true
		}
		if w != d && !slices.Contains(aliases[w], d) {
			aliases[w] = append(aliases[w], d)
		}
	}
	fe.mu.Lock()
	for f := range configFiles {
		if !fe.configFiles[f] {
			added = true
		}
	}
	fe.configFiles, fe.configDirs, fe.outputs, fe.aliases = configFiles, configDirs, outputs, aliases
	fe.mu.Unlock()
	return added
}

// prune forgets the watches whose directory is gone, or whose name now
// leads to another directory (a link on the way was re-pointed: inotify
// still watches the old one).
func (fe *fileEvents) prune() {
	live := map[string]bool{}
	for _, d := range fe.fsw.WatchList() {
		live[d] = true
	}
	for d, was := range fe.watched {
		now, err := os.Stat(d)
		if live[d] && err == nil && os.SameFile(now, was) {
			continue
		}
		if live[d] {
			_ = fe.fsw.Remove(d)
		}
		delete(fe.watched, d)
	}
}

// watching returns the name of the watch on the directory fi, if any.
func (fe *fileEvents) watching(fi os.FileInfo) (string, bool) {
	for d, w := range fe.watched {
		if os.SameFile(w, fi) {
			return d, true
		}
	}
	return "", false
}

// linkChain returns, for an absolute path, the symbolic links met on the
// way to the file, each as the path of the link itself, and then the path
// it resolves to; nothing when no link is met. A deploy that re-points a
// link anywhere on the way (current -> releases/2) changes the file. The
// walk resolves as the kernel does: ".." in a link's target is the parent
// of where the link led so far. A part that does not exist (yet) ends it.
func linkChain(path string) []string {
	var links []string
	rest := splitPath(path)
	cur := string(filepath.Separator)
	for len(rest) > 0 {
		part := rest[0]
		rest = rest[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, part)
		fi, err := os.Lstat(next)
		if err == nil && fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		var target string
		if err == nil && len(links) < 40 { // as many links as Linux follows
			target, err = os.Readlink(next)
		}
		if err != nil || target == "" {
			if len(links) == 0 {
				return nil
			}
			return append(links, filepath.Join(append([]string{next}, rest...)...))
		}
		links = append(links, next)
		if filepath.IsAbs(target) {
			cur = string(filepath.Separator)
		}
		rest = append(splitPath(target), rest...)
	}
	if len(links) == 0 {
		return nil
	}
	return append(links, cur)
}

func splitPath(p string) []string {
	return strings.Split(p, string(filepath.Separator))
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

// watchDir (re)watches the directory of path, e.g. after it was recreated
// (perhaps with the inode number of the one deleted, so only a live watch
// under another of its names makes adding it unneeded).
func (fe *fileEvents) watchDir(path string) {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err == nil {
		if w, ok := fe.watching(fi); ok && w != dir && slices.Contains(fe.fsw.WatchList(), w) {
			return
		}
	}
	fe.add(dir)
}

// add watches dir and remembers what it is. What it is is read first: a
// link re-pointed in between then shows as a mismatch to prune, which
// watches the new directory.
func (fe *fileEvents) add(dir string) bool {
	fi, statErr := os.Stat(dir)
	if err := fe.fsw.Add(dir); err != nil {
		fe.log.Debug("cannot watch directory", "dir", dir, "err", err)
		return false
	}
	if statErr == nil {
		fe.watched[dir] = fi
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
// are neither. An event carries the name its directory was watched
// under; the configuration or an output may use another name of it.
func (fe *fileEvents) classify(ev fsnotify.Event) (isConfig, isOutput bool) {
	name := filepath.Clean(ev.Name)
	base := filepath.Base(name)
	if strings.Contains(base, ".agent-tmp-") || strings.Contains(base, ".agent-bak-") {
		return false, false
	}
	fe.mu.Lock()
	defer fe.mu.Unlock()
	names := []string{name}
	for _, alias := range fe.aliases[filepath.Dir(name)] {
		names = append(names, filepath.Join(alias, base))
	}
	for _, n := range names {
		if fe.outputs[n] {
			fe.touched[n] = true
			isOutput = true
		}
	}
	if isOutput || ev.Op == fsnotify.Chmod {
		return false, isOutput
	}
	for _, n := range names {
		if fe.configFiles[n] || fe.configDirs[filepath.Dir(n)] && strings.HasPrefix(base, "..") {
			return true, false
		}
		// A directory on the way to a configuration file (created, renamed).
		for f := range fe.configFiles {
			if strings.HasPrefix(f, n+string(filepath.Separator)) {
				return true, false
			}
		}
	}
	return false, false
}
