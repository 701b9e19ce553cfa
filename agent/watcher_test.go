package agent

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/internal/syncbuf"
	"github.com/kv-agent/agent/agent/observe"
)

// testWatcher is a watcher of one output, out, of one secret, on an
// in-process emulator; hooks are its hooks. It is not started.
func testWatcher(t *testing.T, hooks watchHooks) (w *watcher, out string, logs *syncbuf.Buffer) {
	t.Helper()
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.yaml")
	mf := filepath.Join(dir, "agent.yaml")
	out = filepath.Join(dir, "out", "db.txt")
	// Managed identity tokens are cached per process by client ID, so a
	// fresh identity per run keeps a token of an earlier run's emulator
	// (-count) from being offered to this one.
	client := randomGUID(t)
	writeTestFile(t, seed, `tenant: 72f988bf-86f1-41af-91ab-2d7cd011db47
managedIdentities:
  userAssigned: [{name: mi, clientId: `+client+`, objectId: `+randomGUID(t)+`}]
vaults:
  contoso:
    secrets: {db-password: "db-value-5e6f"}
    access: [{identity: mi, permissions: [get, list]}]
`)
	writeTestFile(t, mf, `version: 1
identities: {default: {kind: managedIdentity, clientId: `+client+`}}
vaults: {main: {url: https://contoso.vault.azure.net}}
secrets: {db: main/db-password}
files:
  - {path: `+out+`, template: 'db={{ secret "db" }}'}
watch: {interval: 1h}
`)
	s, err := loadSettings([]string{"AGENT_MANIFEST=" + mf, "AGENT_EMULATOR=" + seed})
	if err != nil {
		t.Fatal(err)
	}
	logs = &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	p, err := loadPlan(mf)
	if err != nil {
		t.Fatal(err)
	}
	metrics := observe.New(nil)
	sess, err := connectWatch(t.Context(), &s, p.m, log, func(string) string { return "" }, metrics)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.close)
	w = newWatcher(watchConfig{settings: &s, plan: p, sess: sess, log: log, metrics: metrics, output: io.Discard, hooks: hooks})
	return w, out, logs
}

// TestWatcherRestoresFilesDamagedBeforeWatching: a rendered file deleted
// after the first render but before the agent watches its directory is
// still restored, without waiting for the next check an hour later.
func TestWatcherRestoresFilesDamagedBeforeWatching(t *testing.T) {
	t.Parallel()
	w, out, logs := testWatcher(t, watchHooks{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := w.firstRender(ctx); err != nil {
		t.Fatalf("first render: %v\n%s", err, logs)
	}
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { w.keep(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(out)
		if string(b) == "db=db-value-5e6f" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not restored (content %q)\n%s", out, b, logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if !strings.Contains(logs.String(), `msg="rendered file was deleted or altered; restored it"`) {
		t.Errorf("the restore was not logged:\n%s", logs)
	}
}

// TestWatcherReadyOnceWatching: when the watcher says it is ready
// (systemd's READY=1, run --watch starting its child), its outputs are
// in place and their directory is watched.
func TestWatcherReadyOnceWatching(t *testing.T) {
	t.Parallel()
	var w *watcher
	var out string
	ready := make(chan string, 1)
	w, out, _ = testWatcher(t, watchHooks{ready: func() {
		switch b, _ := os.ReadFile(out); {
		case string(b) != "db=db-value-5e6f":
			ready <- fmt.Sprintf("%s holds %q", out, b)
		case w.files == nil || !slices.Contains(w.files.fsw.WatchList(), filepath.Dir(out)):
			ready <- filepath.Dir(out) + " is not watched"
		default:
			ready <- ""
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	select {
	case problem := <-ready:
		if problem != "" {
			t.Errorf("ready, but %s", problem)
		}
	case err := <-done:
		t.Fatalf("the watcher stopped before it was ready: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("never ready")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// randomGUID returns a random version 4 GUID.
func randomGUID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
