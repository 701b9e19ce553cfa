package sdnotify_test

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/sdnotify"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// listen returns a unixgram socket to receive notifications on.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestNotify(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, socket string }{
		{"path", filepath.Join(t.TempDir(), "notify.sock")},
		{"abstract", "@agent-sdnotify-test-" + time.Now().Format("150405.000000000")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := listen(t, tc.socket)
			n := sdnotify.New(env("NOTIFY_SOCKET", tc.socket))
			for _, state := range []string{sdnotify.Ready, sdnotify.Watchdog} {
				if err := n.Notify(state); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 256)
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				k, _, err := c.ReadFromUnix(buf)
				if err != nil {
					t.Fatal(err)
				}
				if got := string(buf[:k]); got != state {
					t.Errorf("got %q, want %q", got, state)
				}
			}
		})
	}
}

func TestNotifyWithoutSystemd(t *testing.T) {
	t.Parallel()
	n := sdnotify.New(env())
	if n != nil {
		t.Fatal("a Notifier without NOTIFY_SOCKET")
	}
	if err := n.Notify(sdnotify.Ready); err != nil {
		t.Errorf("nil Notifier: %v", err)
	}
	gone := sdnotify.New(env("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "absent.sock")))
	if err := gone.Notify(sdnotify.Ready); err == nil {
		t.Error("no error for a socket nobody listens on")
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  func(string) string
		want time.Duration
		ok   bool
	}{
		{"unset", env(), 0, false},
		{"set", env("WATCHDOG_USEC", "30000000"), 30 * time.Second, true},
		{"for this pid", env("WATCHDOG_USEC", "2000000", "WATCHDOG_PID", "42"), 2 * time.Second, true},
		{"for another pid", env("WATCHDOG_USEC", "2000000", "WATCHDOG_PID", "43"), 0, false},
		{"garbage", env("WATCHDOG_USEC", "soon"), 0, false},
		{"zero", env("WATCHDOG_USEC", "0"), 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := sdnotify.WatchdogInterval(tc.env, 42)
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %s %v, want %s %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
