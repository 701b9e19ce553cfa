package emulator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Exit codes of RunCommand (sysexits, as the rest of agent).
const (
	exitOK          = 0
	exitUsage       = 64 // bad command line
	exitDataErr     = 65 // invalid seed
	exitUnavailable = 69 // cannot listen
	exitCantCreat   = 73 // cannot write an env file or the CA
)

const usage = `Usage: agent emulator --seed FILE [flags]

Runs a local Azure for development and CI: IMDS, the App Service identity
endpoint, Entra ID's token endpoint and Key Vault, reachable the way Azure is.
It listens on loopback as an HTTP proxy for Azure's host names and answers
them itself with certificates from its own CA; every other destination is
refused (502), nothing is forwarded to a network. It runs until interrupted
(SIGINT or SIGTERM).

Once listening it writes --env-file (atomically) with HTTPS_PROXY, HTTP_PROXY,
NO_PROXY, SSL_CERT_FILE, REQUESTS_CA_BUNDLE and AGENT_EMULATOR_URL, which is
all an unmodified Azure client needs (plus lowercase https_proxy, http_proxy,
no_proxy and CURL_CA_BUNDLE for curl). --appservice-env-file gets
IDENTITY_ENDPOINT and IDENTITY_HEADER (they make clients use the App Service
managed-identity source instead of IMDS, so they live in a separate file).

Admin endpoints on AGENT_EMULATOR_URL: GET /_emulator/stats,
POST /_emulator/reset, GET /_emulator/ca.pem,
GET /_emulator/federated-token?sp=NAME.

Flags:
`

const examples = `
Examples:
  # Run with a seed and source the environment in another shell
  agent emulator --seed seed.yaml --env-file /tmp/azure.env &
  set -a; . /tmp/azure.env; set +a
  curl -s -H Metadata:true \
    'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net'

  # Fixed port, 20ms added to every request, App Service identity variables
  agent emulator --seed seed.yaml --listen 127.0.0.1:8480 --latency 20ms \
    --env-file azure.env --appservice-env-file appservice.env

Exit status: 0 after SIGINT/SIGTERM, 64 usage error, 65 invalid seed,
69 cannot listen, 73 cannot write a file.
`

// RunCommand runs "agent emulator" with args (after the command name). It
// returns once ctx is done (the caller cancels it on SIGINT/SIGTERM) or
// start-up failed, with the process exit code.
func RunCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent emulator", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	seedPath := fs.String("seed", "", "seed `FILE` (YAML): tenant, identities, service principals, vaults (required)")
	listen := fs.String("listen", "127.0.0.1:0", "loopback `ADDRESS` to listen on (port 0 picks a free one)")
	envFile := fs.String("env-file", "", "write the proxy and CA variables to `PATH` once listening")
	asEnvFile := fs.String("appservice-env-file", "", "write IDENTITY_ENDPOINT and IDENTITY_HEADER to `PATH`")
	latency := fs.Duration("latency", 0, "`DURATION` added to every request (overrides the seed's latency)")
	dir := fs.String("dir", "", "`DIR` for the CA certificate (default: a temporary directory removed on exit)")
	verbose := fs.Bool("verbose", false, "log every request (never secret values or tokens)")
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprint(w, examples)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "agent: error: %v\nagent: hint: run 'agent emulator --help'\n", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "agent: error: unexpected argument %q\nagent: hint: run 'agent emulator --help'\n", fs.Arg(0))
		return exitUsage
	}
	if *seedPath == "" {
		fmt.Fprint(stderr, "agent: error: --seed is required\nagent: hint: run 'agent emulator --help'\n")
		return exitUsage
	}
	seed, err := LoadSeed(*seedPath)
	if err != nil {
		var se *SeedError
		if errors.As(err, &se) {
			for _, p := range se.Problems {
				fmt.Fprintf(stderr, "agent: error: %s\n", p)
			}
		} else {
			fmt.Fprintf(stderr, "agent: error: %v\n", err)
		}
		return exitDataErr
	}
	if isSet(fs, "latency") {
		seed.Latency = *latency
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	em, err := Start(ctx, Options{Seed: seed, Listen: *listen, Dir: *dir, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "agent: error: %v\n", err)
		var pe *os.PathError
		if errors.As(err, &pe) {
			return exitCantCreat
		}
		return exitUnavailable
	}
	defer em.Close()
	// The line comes first: the env file is the readiness signal scripts
	// wait for, and once it exists everything else has been said.
	fmt.Fprintf(stderr, "agent emulator: listening on %s\n", em.URL())
	if err := writeEnvFile(*envFile, em.Env(), 0o644); err != nil {
		fmt.Fprintf(stderr, "agent: error: %v\n", err)
		return exitCantCreat
	}
	if err := writeEnvFile(*asEnvFile, em.AppServiceEnv(), 0o600); err != nil {
		fmt.Fprintf(stderr, "agent: error: %v\n", err)
		return exitCantCreat
	}
	<-ctx.Done()
	shutdown := time.Now()
	_ = em.Close()
	logger.Debug("emulator stopped", "took", time.Since(shutdown))
	return exitOK
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// writeEnvFile writes KEY=VALUE lines atomically; an empty path is a no-op.
func writeEnvFile(path string, env []string, mode os.FileMode) error {
	if path == "" {
		return nil
	}
	if err := writeFileAtomic(path, []byte(strings.Join(env, "\n")+"\n"), mode); err != nil {
		return fmt.Errorf("write env file: %w", err)
	}
	return nil
}
