package agent_test

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/emulator"
)

// startRunWatch starts `agent run --watch --listen 127.0.0.1:0 args…`
// like startWatch starts agent watch (clean environment: PATH, HOME, the
// emulator's variables, extra), and waits for its listener. It is stopped
// with SIGTERM when the test ends.
func startRunWatch(t testing.TB, e *emulator.Emulator, extra []string, args ...string) *watchProc {
	t.Helper()
	return startListening(t, e, extra, append([]string{"run", "--watch", "--listen", "127.0.0.1:0"}, args...))
}

// waitExit waits for the agent to exit by itself and returns its code.
func (p *watchProc) waitExit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		p.t.Fatalf("the agent did not exit within %s:\n%s", timeout, p.stderr)
		return -1
	}
}

// signal sends sig to the agent.
func (p *watchProc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// childEvent is one line the child's "wait" action wrote: a PID and
// "started" or a signal's name.
type childEvent struct {
	pid  int
	what string
}

// events reads the child's events file.
func events(path string) []childEvent {
	var out []childEvent
	for _, line := range strings.Split(readOrEmpty(path), "\n") {
		pid, what, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(pid)
		out = append(out, childEvent{n, what})
	}
	return out
}

// started returns the PIDs of the children that started, in order.
func started(path string) []int {
	var pids []int
	for _, ev := range events(path) {
		if ev.what == "started" {
			pids = append(pids, ev.pid)
		}
	}
	return pids
}

// hasEvent reports whether the child with pid recorded what.
func hasEvent(path string, pid int, what string) bool {
	for _, ev := range events(path) {
		if ev.pid == pid && ev.what == what {
			return true
		}
	}
	return false
}

// eventsString shows the events in a failure message.
func eventsString(path string) string {
	return strings.TrimSpace(readOrEmpty(path))
}

// procStat returns the fields of /proc/PID/stat after the command name
// (state, ppid, ...), or nil. The name may hold spaces and parentheses, so
// the fields start after the last ')'.
func procStat(pid int) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data[i+1:]))
}

// procState returns the state letter of process pid (R, S, T, Z, ...), or
// 0 if it cannot be read.
func procState(pid int) byte {
	if f := procStat(pid); len(f) > 0 && f[0] != "" {
		return f[0][0]
	}
	return 0
}

// procParent returns the parent PID of process pid, or 0.
func procParent(pid int) int {
	f := procStat(pid)
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
