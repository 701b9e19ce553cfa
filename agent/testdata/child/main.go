// Command child is the program that the end-to-end tests of "agent run"
// wrap. It runs its arguments as a list of actions, in order:
//
//	env FILE          write the environment to FILE as a JSON object
//	pid FILE          write the process ID to FILE
//	id FILE           write "uid gid groups" to FILE
//	touch FILE        create FILE
//	signal READY MARK install a SIGUSR1 handler, create READY, wait (10s at
//	                  most) for the signal, then write "SIGUSR1" to MARK
//	exit N            exit with status N
//	wait EVENTS TERM  (agent run --watch) append "PID started" to EVENTS,
//	                  then "PID SIGNAME" for each signal received; on
//	                  SIGTERM exit with status TERM, or go on when TERM is
//	                  "ignore"; exit 98 after a minute
//	killself N        die of signal N
//	zombies FILE N    (as the child of PID 1) leave N orphaned grandchildren
//	                  behind, wait for them to finish, then write
//	                  "ppid=P zombies=Z" to FILE: Z is the number of other
//	                  processes (PID 1 and itself aside) still there after
//	                  5s at most, zombies included
//	spawn N DIR       start N processes "sleepms 100 touch DIR/gone.I" and
//	                  exit without waiting for them
//	sleepms N         sleep N milliseconds
//
// It never prints the environment to stdout or stderr.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	for len(args) > 0 {
		n, err := step(args)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(99)
		}
		args = args[n:]
	}
}

func step(args []string) (int, error) {
	need := func(n int) error {
		if len(args) < n+1 {
			return fmt.Errorf("%s needs %d arguments", args[0], n)
		}
		return nil
	}
	switch args[0] {
	case "env":
		if err := need(1); err != nil {
			return 0, err
		}
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		b, _ := json.Marshal(env)
		return 2, os.WriteFile(args[1], b, 0o600)
	case "pid":
		if err := need(1); err != nil {
			return 0, err
		}
		return 2, os.WriteFile(args[1], []byte(strconv.Itoa(os.Getpid())), 0o600)
	case "id":
		if err := need(1); err != nil {
			return 0, err
		}
		groups, _ := os.Getgroups()
		return 2, os.WriteFile(args[1], []byte(fmt.Sprintf("%d %d %v", os.Getuid(), os.Getgid(), groups)), 0o600)
	case "touch":
		if err := need(1); err != nil {
			return 0, err
		}
		return 2, os.WriteFile(args[1], nil, 0o600)
	case "signal":
		if err := need(2); err != nil {
			return 0, err
		}
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGUSR1)
		if err := os.WriteFile(args[1], nil, 0o600); err != nil {
			return 0, err
		}
		select {
		case s := <-ch:
			return 3, os.WriteFile(args[2], []byte(sigName(s)), 0o600)
		case <-time.After(10 * time.Second):
			return 0, fmt.Errorf("no signal within 10s")
		}
	case "wait":
		if err := need(2); err != nil {
			return 0, err
		}
		return 3, waitSignals(args[1], args[2])
	case "killself":
		if err := need(1); err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return 0, err
		}
		signal.Reset()
		_ = syscall.Kill(os.Getpid(), syscall.Signal(n))
		time.Sleep(10 * time.Second)
		return 0, fmt.Errorf("still alive after signal %d", n)
	case "zombies":
		if err := need(2); err != nil {
			return 0, err
		}
		return 3, zombies(args[1], args[2])
	case "spawn":
		if err := need(2); err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return 0, err
		}
		for i := range n {
			cmd := exec.Command(os.Args[0], "sleepms", "100", "touch", filepath.Join(args[2], "gone."+strconv.Itoa(i)))
			if err := cmd.Start(); err != nil {
				return 0, err
			}
		}
		os.Exit(0)
	case "sleepms":
		if err := need(1); err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return 0, err
		}
		time.Sleep(time.Duration(n) * time.Millisecond)
		return 2, nil
	case "exit":
		if err := need(1); err != nil {
			return 0, err
		}
		code, err := strconv.Atoi(args[1])
		if err != nil {
			return 0, err
		}
		os.Exit(code)
	}
	return 0, fmt.Errorf("unknown action %q", args[0])
}

// waitSignals records the signals received in events until SIGTERM.
func waitSignals(events, onTerm string) error {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	record := func(what string) error {
		f, err := os.OpenFile(events, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = fmt.Fprintf(f, "%d %s\n", os.Getpid(), what)
		return err
	}
	if err := record("started"); err != nil {
		return err
	}
	timeout := time.After(time.Minute)
	for {
		select {
		case s := <-ch:
			if err := record(sigNames[s.(syscall.Signal)]); err != nil {
				return err
			}
			if s == syscall.SIGTERM && onTerm != "ignore" {
				code, err := strconv.Atoi(onTerm)
				if err != nil {
					return err
				}
				os.Exit(code)
			}
		case <-timeout:
			os.Exit(98)
		}
	}
}

var sigNames = map[syscall.Signal]string{syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGTERM: "SIGTERM", syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2", syscall.SIGWINCH: "SIGWINCH"}

// zombies leaves n orphans behind (through a process that starts them and
// exits), waits until they did their work, then counts the processes
// still there.
func zombies(file, count string) error {
	n, err := strconv.Atoi(count)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "zombies-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	spawn := exec.Command(os.Args[0], "spawn", count, dir)
	spawn.Stderr = os.Stderr // a file: nothing waits for the grandchildren to close it
	if err := spawn.Run(); err != nil {
		return fmt.Errorf("spawn: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		gone, _ := filepath.Glob(filepath.Join(dir, "gone.*"))
		if len(gone) == n {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d grandchildren finished", len(gone), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	left := others()
	for deadline := time.Now().Add(5 * time.Second); left > 0 && time.Now().Before(deadline); left = others() {
		time.Sleep(10 * time.Millisecond)
	}
	return os.WriteFile(file, []byte(fmt.Sprintf("ppid=%d zombies=%d", os.Getppid(), left)), 0o600)
}

// others counts the processes in /proc but PID 1 and this one.
func others() int {
	n := 0
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range paths {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if pid != 1 && pid != os.Getpid() {
			if _, err := os.Stat(p); err == nil {
				n++
			}
		}
	}
	return n
}

func sigName(s os.Signal) string {
	if s == syscall.SIGUSR1 {
		return "SIGUSR1"
	}
	return "other"
}
