package agent

import (
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/manifest"
)

func TestChildEnviron(t *testing.T) {
	t.Parallel()
	base := newEnvList([]string{"PATH=/bin", "REF=@Microsoft.KeyVault(VaultName=v;SecretName=s)", "HOME=/root"})
	cases := []struct {
		name   string
		values map[string]string
		want   []string
		err    string
	}{
		{"references keep their place, new variables follow sorted", map[string]string{"REF": "ref-value-x1", "ZED": "z", "DB": "d"},
			[]string{"PATH=/bin", "REF=ref-value-x1", "HOME=/root", "DB=d", "ZED=z"}, ""},
		{"a NUL byte is an error naming the variable, not the value", map[string]string{"DB": "nul-secret-y2\x00", "OK": "fine"}, nil,
			"environment variable DB: the value holds a NUL byte"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := childEnviron(base, tc.values)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "nul-secret-y2") {
					t.Fatalf("err = %v, want %q without the value", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("childEnviron = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if got := base.environ()[1]; !strings.HasPrefix(got, "REF=@Microsoft") {
		t.Errorf("childEnviron changed its base: %s", got)
	}
}

// TestChangeQueue: what the watcher's hooks record for the supervisor,
// and when it is due.
func TestChangeQueue(t *testing.T) {
	t.Parallel()
	ws := manifest.Watch{WaitMin: 2 * time.Second, WaitMax: 30 * time.Second, OnChange: manifest.OnChangeRestart, KillTimeout: time.Second}
	plain := &manifest.File{Path: "plain"}
	withSignal := &manifest.File{Path: "sig", OnChange: &manifest.OnChange{Signal: "SIGUSR1"}}
	cases := []struct {
		name    string
		watch   func(manifest.Watch) manifest.Watch
		changes func(h watchHooks)
		want    pendingChanges // env and watch not compared
	}{
		{"before the first render nothing is recorded", nil, nil, pendingChanges{}},
		{"env change", nil, func(h watchHooks) { h.envChanged(t.Context(), map[string]string{"A": "2"}) }, pendingChanges{envDirty: true}},
		{"plain file, onChange restart", nil, func(h watchHooks) { h.filesChanged(t.Context(), []*manifest.File{plain}) }, pendingChanges{restart: true}},
		{"plain file, onChange signal", func(w manifest.Watch) manifest.Watch {
			w.OnChange, w.Signal = manifest.OnChangeSignal, "SIGHUP"
			return w
		},
			func(h watchHooks) { h.filesChanged(t.Context(), []*manifest.File{plain}) }, pendingChanges{sigs: []syscall.Signal{syscall.SIGHUP}}},
		{"plain file, onChange none", func(w manifest.Watch) manifest.Watch { w.OnChange = manifest.OnChangeNone; return w },
			func(h watchHooks) { h.filesChanged(t.Context(), []*manifest.File{plain}) }, pendingChanges{}},
		{"a file with its own signal is not restarted too", nil, func(h watchHooks) {
			_ = h.signal(syscall.SIGUSR1)
			h.filesChanged(t.Context(), []*manifest.File{withSignal})
		}, pendingChanges{sigs: []syscall.Signal{syscall.SIGUSR1}}},
		{"signals once each, in order", nil, func(h watchHooks) {
			_ = h.signal(syscall.SIGUSR2)
			_ = h.signal(syscall.SIGUSR1)
			_ = h.signal(syscall.SIGUSR2)
		}, pendingChanges{sigs: []syscall.Signal{syscall.SIGUSR2, syscall.SIGUSR1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := ws
			if tc.watch != nil {
				w = tc.watch(w)
			}
			fake := &watcher{plan: &plan{m: &manifest.Manifest{Watch: w}}, env: map[string]string{"A": "1"}}
			q := newChangeQueue()
			h := q.hooks(func() *watcher { return fake })
			if tc.changes == nil {
				_ = h.signal(syscall.SIGUSR1) // before ready: dropped
			} else {
				h.ready()
				tc.changes(h)
			}
			got := q.take()
			if got.restart != tc.want.restart || got.envDirty != tc.want.envDirty || !reflect.DeepEqual(got.sigs, tc.want.sigs) {
				t.Errorf("take = restart %v env %v sigs %v; want %v %v %v", got.restart, got.envDirty, got.sigs, tc.want.restart, tc.want.envDirty, tc.want.sigs)
			}
			if _, pending := q.due(); pending {
				t.Error("still pending after take")
			}
		})
	}
}

func TestChangeQueueDue(t *testing.T) {
	t.Parallel()
	q := newChangeQueue()
	q.watch = manifest.Watch{WaitMin: 2 * time.Second, WaitMax: 30 * time.Second}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name        string
		first, last time.Duration // after t0
		want        time.Duration
	}{
		{"quiet after the last change", 0, 5 * time.Second, 7 * time.Second},
		{"but no later than max after the first", 0, 29 * time.Second, 30 * time.Second},
	}
	for _, tc := range cases {
		q.first, q.last = t0.Add(tc.first), t0.Add(tc.last)
		if at, ok := q.due(); !ok || !at.Equal(t0.Add(tc.want)) {
			t.Errorf("%s: due = %s, %v; want t0+%s", tc.name, at.Sub(t0), ok, tc.want)
		}
	}
}
