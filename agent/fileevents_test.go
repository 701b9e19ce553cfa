package agent

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/render"
)

func TestLinkChain(t *testing.T) {
	t.Parallel()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mk := func(rel string) {
		if err := os.MkdirAll(filepath.Join(dir, rel), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ln := func(target, rel string) {
		if err := os.Symlink(target, filepath.Join(dir, rel)); err != nil {
			t.Fatal(err)
		}
	}
	mk("cfg/..2026_1")
	ln("..2026_1", "cfg/..data")
	ln("..data/agent.yaml", "cfg/agent.yaml")
	mk("app/releases/1")
	ln("releases/1", "app/current")
	ln(filepath.Join(dir, "app/current/agent.yaml"), "etc-agent.yaml")
	mk("elsewhere/x/y")
	mk("d")
	ln(filepath.Join(dir, "elsewhere/x/y"), "d/sub")
	ln("sub/../cfg", "d/link")
	ln("loop-b", "loop-a")
	ln("loop-a", "loop-b")
	p := func(rel ...string) []string {
		for i, r := range rel {
			rel[i] = filepath.Join(dir, r)
		}
		return rel
	}
	cases := []struct {
		path string
		want []string
	}{
		{"plain/agent.yaml", nil},
		{"cfg/agent.yaml", p("cfg/agent.yaml", "cfg/..data", "cfg/..2026_1/agent.yaml")},
		{"app/current/agent.yaml", p("app/current", "app/releases/1/agent.yaml")},
		{"etc-agent.yaml", p("etc-agent.yaml", "app/current", "app/releases/1/agent.yaml")},
		{"missing/dir/agent.yaml", nil},
		// ".." after a link is the parent of where the link led, as the
		// kernel resolves it: elsewhere/x, not d.
		{"d/link/agent.yaml", p("d/link", "d/sub", "elsewhere/x/cfg/agent.yaml")},
	}
	for _, tc := range cases {
		if got := linkChain(filepath.Join(dir, tc.path)); !slices.Equal(got, tc.want) {
			t.Errorf("linkChain(%s) = %q, want %q", tc.path, got, tc.want)
		}
	}
	// A loop ends after as many links as Linux follows, without hanging.
	if got := linkChain(filepath.Join(dir, "loop-a/agent.yaml")); len(got) != 41 {
		t.Errorf("a link loop gave %d entries, want 40 links and where it stopped", len(got))
	}
}

// TestWatchDirAfterRecreate: an output directory deleted and made again
// is watched again, even when the file system gives the new directory the
// inode number of the old one (ext4 does).
func TestWatchDirAfterRecreate(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	fe, err := watchFiles(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer fe.close()
	fe.watchDir(filepath.Join(out, "db.txt"))
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); slices.Contains(fe.fsw.WatchList(), out); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the deleted directory's watch was never dropped")
		}
	}
	fe.watchDir(filepath.Join(out, "db.txt"))
	if !slices.Contains(fe.fsw.WatchList(), out) {
		t.Errorf("the recreated %s is not watched", out)
	}
}

// TestTouchedOutputsAreNeverDropped: however many rendered files change
// while the watcher is busy elsewhere, each is reported.
func TestTouchedOutputsAreNeverDropped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fe, err := watchFiles(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer fe.close()
	const n = 200
	written := map[string]render.File{}
	for i := range n {
		path := filepath.Join(dir, fmt.Sprintf("out-%03d.txt", i))
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		written[path] = render.File{Path: path}
	}
	fe.set(&plan{m: &manifest.Manifest{Path: environmentSource}}, written, nil)
	for path := range written { // nobody takes the events meanwhile
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for deadline := time.Now().Add(10 * time.Second); len(seen) < n; time.Sleep(10 * time.Millisecond) {
		for _, p := range fe.takeTouched() {
			seen[p] = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deleted outputs reported", len(seen), n)
		}
	}
}
