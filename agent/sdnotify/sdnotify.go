// Package sdnotify speaks systemd's notification protocol (sd_notify(3))
// without libsystemd: one datagram per state change to the unix socket
// named by NOTIFY_SOCKET.
//
// A unit with Type=notify waits for "READY=1" before it counts the service
// as started; with WatchdogSec= set, systemd passes WATCHDOG_USEC (and
// WATCHDOG_PID) and restarts the service unless "WATCHDOG=1" arrives at
// least that often.
//
//	n := sdnotify.New(os.Getenv)       // nil when not run by systemd
//	n.Notify(sdnotify.Ready)           // a nil *Notifier does nothing
//	if d, ok := sdnotify.WatchdogInterval(os.Getenv, os.Getpid()); ok { … ping every d/2 … }
package sdnotify

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// States the agent sends.
const (
	Ready     = "READY=1"
	Reloading = "RELOADING=1"
	Stopping  = "STOPPING=1"
	Watchdog  = "WATCHDOG=1"
)

// Notifier sends states to systemd. A nil *Notifier is valid and sends
// nothing. Its methods are safe for concurrent use.
type Notifier struct {
	addr *net.UnixAddr
}

// New returns a Notifier for the socket in NOTIFY_SOCKET (a path, or an
// abstract socket name starting with "@"), or nil when it is unset.
func New(getenv func(string) string) *Notifier {
	name := getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil
	}
	return &Notifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}
}

// Notify sends state, e.g. Ready or "STATUS=checking".
func (n *Notifier) Notify(state string) error {
	if n == nil {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	return nil
}

// WatchdogInterval returns the watchdog timeout systemd expects pings
// within (WATCHDOG_USEC), when it is set for this process: WATCHDOG_PID,
// when set, must be pid. Send Watchdog at least every half of it.
func WatchdogInterval(getenv func(string) string, pid int) (time.Duration, bool) {
	usec, err := strconv.ParseInt(getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0, false
	}
	if p := getenv("WATCHDOG_PID"); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n != pid {
			return 0, false
		}
	}
	return time.Duration(usec) * time.Microsecond, true
}
