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
//
// It never prints the environment to stdout or stderr.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
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

func sigName(s os.Signal) string {
	if s == syscall.SIGUSR1 {
		return "SIGUSR1"
	}
	return "other"
}
