// Package agent is the agent's application: the command line, its settings,
// and the modes (render, check, run, watch, emulator).
//
// Main is the whole program; cmd/agent only calls it. Nothing below Main
// exits the process: failures travel as errors carrying an exit code
// (ExitError), and Main turns them into a message on stderr and a code.
package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand of the agent.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, inv *invocation, args []string) error
}

// invocation is what every command gets: its streams and environment.
type invocation struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
}

func commands() []command {
	return []command{
		{"render", "fetch every secret, render every output, write all or nothing, exit", cmdRender},
		{"run", "resolve secrets into files and the environment, then exec the command (--watch: supervise it)", cmdRun},
		{"watch", "render, then keep files current as secrets rotate (daemon, sidecar)", cmdWatch},
		{"check", "validate the manifest; with credentials, resolve every reference (never a value)", cmdCheck},
		{"emulator", "run the local Azure (IMDS, Entra ID, Key Vault) for development and CI", cmdEmulator},
		{"version", "print the agent's version", cmdVersion},
	}
}

const usageHead = `agent puts Azure Key Vault secrets where programs expect them: files and
environment variables, rendered through Go templates.

Usage:
  agent <command> [flags] [args]

Commands:
`

const usageTail = `
Run 'agent <command> --help' for a command's flags and examples.
The manifest path defaults to $AGENT_MANIFEST, then ./agent.yaml.

Examples:
  agent render -m /etc/agent/agent.yaml
  agent check --offline -m agent.yaml
  agent run -m /etc/agent/agent.yaml -- /opt/app/bin/app --port 8080
  agent render -m examples/quickstart/agent.yaml --emulator examples/quickstart/seed.yaml
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, usageTail)
}

// Main runs the agent with args (without the program name) and returns the
// process exit code. SIGINT and SIGTERM cancel the context commands run
// with.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	inv := &invocation{stdin: stdin, stdout: stdout, stderr: stderr, environ: os.Environ()}
	return run(ctx, inv, args)
}

func run(ctx context.Context, inv *invocation, args []string) int {
	if len(args) == 0 {
		usage(inv.stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		usage(inv.stdout)
		return ExitOK
	case "--version", "-version":
		args = []string{"version"}
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, inv, args[1:])
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		if err != nil {
			printError(inv.stderr, err)
		}
		return exitCode(err)
	}
	fmt.Fprintf(inv.stderr, "agent: error: unknown command %q\n", args[0])
	fmt.Fprintf(inv.stderr, "agent: hint: commands are %s; see 'agent --help'\n", strings.Join(commandNames(), ", "))
	return ExitUsage
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return names
}

// printError writes err to w as "agent: error: …" lines: one per line of
// the message, so that a list of manifest problems reads as a list.
func printError(w io.Writer, err error) {
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err == errSilent {
		return
	}
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintf(w, "agent: error: %s\n", line)
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) && h.Hint() != "" {
		fmt.Fprintf(w, "agent: hint: %s\n", h.Hint())
	}
}

// errSilent marks a failure whose details were already printed.
var errSilent = errors.New("failed")

// newFlagSet returns a FlagSet for command name whose --help prints usage
// and examples to stdout.
func newFlagSet(inv *invocation, name, synopsis, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(inv.stderr)
	fs.Usage = func() {
		fs.SetOutput(inv.stdout)
		fmt.Fprintf(inv.stdout, "Usage:\n  %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		if examples != "" {
			fmt.Fprintf(inv.stdout, "\nExamples:\n%s", examples)
		}
		fs.SetOutput(inv.stderr)
	}
	return fs
}

// parseFlags parses args with fs, mapping errors to ExitUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &ExitError{Code: ExitUsage, Err: errSilent}
	}
	return nil
}
