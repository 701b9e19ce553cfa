package agent

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/kv-agent/agent/agent/keyvault"
	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/agent/observe"
	"github.com/kv-agent/agent/agent/sdnotify"
)

const watchExamples = `  agent watch -m /etc/agent/agent.yaml
  agent watch -m /etc/agent/agent.yaml --listen 127.0.0.1:9464
  agent watch -m examples/quickstart/agent.yaml --emulator examples/quickstart/seed.yaml --log-level debug
  kill -HUP $(pidof agent)       # reload the manifest and check now
`

// testOnlyIntervalVar replaces watch.interval, without its one-second
// minimum, for tests and benchmarks.
const testOnlyIntervalVar = "AGENT_TESTONLY_WATCH_INTERVAL"

// watchCheckRetries bounds the retries of one request during a check: the
// watcher's own backoff takes over after them.
const watchCheckRetries = 3

func cmdWatch(ctx context.Context, inv *invocation, args []string) error {
	fs := newFlagSet(inv, "watch", "agent watch [-m FILE] [--listen ADDR] [--emulator SEED]", watchExamples)
	var listen string
	s, err := setup(inv, fs, args, func(*Settings) {
		fs.StringVar(&listen, "listen", "", "serve /healthz, /readyz and /metrics on `addr` (host:port; loopback recommended; off by default)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return exitf(ExitUsage, "watch takes no arguments, got %q", strings.Join(fs.Args(), " "))
	}
	var interval time.Duration
	if v := envMap(inv.environ).get(testOnlyIntervalVar); v != "" {
		if interval, err = time.ParseDuration(v); err != nil || interval <= 0 {
			return exitf(ExitUsage, "invalid %s %q: must be a positive duration", testOnlyIntervalVar, v)
		}
	}
	log := s.newLogger(inv.stderr)
	p, err := loadPlan(s.manifestPath())
	if err != nil {
		return err
	}
	metrics := observe.New(nil)
	sess, err := connectWatch(ctx, s, p.m, log, envMap(inv.environ).get, metrics)
	if err != nil {
		return err
	}
	defer sess.close()
	getenv := envMap(inv.environ).get
	notifier := sdnotify.New(getenv)
	w := newWatcher(watchConfig{
		settings: s, plan: p, sess: sess, log: log, metrics: metrics, environ: inv.environ, output: inv.stderr,
		interval: interval,
		hooks: watchHooks{ready: func() {
			if err := notifier.Notify(sdnotify.Ready); err != nil {
				log.Warn("cannot tell systemd the agent is ready", "err", err)
			}
		}},
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if err := serveBeside(ctx, &wg, w, listen, notifier, getenv, log); err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reloading the manifest and checking now")
				w.requestReload()
			}
		}
	})
	err = w.run(ctx)
	_ = notifier.Notify(sdnotify.Stopping)
	if err == nil {
		log.Info("stopped")
	}
	return err
}

// watchdog tells systemd the agent is alive every period until ctx ends.
// serveBeside starts what agent watch and agent run --watch run beside
// the watcher w until ctx ends, each on wg: the health and metrics
// listener when listen is set, and systemd's watchdog when it asks for one.
func serveBeside(ctx context.Context, wg *sync.WaitGroup, w *watcher, listen string, notifier *sdnotify.Notifier, getenv func(string) string, log *slog.Logger) error {
	if listen != "" {
		srv, err := observe.Listen(listen, observe.Handler(w.metrics, w.ready))
		if err != nil {
			return exitf(ExitConfig, "--listen: %w", err)
		}
		log.Info("serving health and metrics", "addr", srv.Addr())
		wg.Go(func() { _ = srv.Serve(ctx, log) })
	}
	if d, ok := sdnotify.WatchdogInterval(getenv, os.Getpid()); ok && notifier != nil {
		wg.Go(func() { watchdog(ctx, notifier, d/2, log) })
	}
	return nil
}

func watchdog(ctx context.Context, n *sdnotify.Notifier, period time.Duration, log *slog.Logger) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if err := n.Notify(sdnotify.Watchdog); err != nil {
			log.Warn("cannot ping the systemd watchdog", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// connectWatch connects like render does, with a fetcher made for
// repeated checks: few retries per request (the watcher backs off
// itself), and every Key Vault request counted in the metrics.
func connectWatch(ctx context.Context, s *Settings, m *manifest.Manifest, log *slog.Logger, getenv func(string) string, metrics *observe.Metrics) (*session, error) {
	sess, err := connect(ctx, s, m, log, getenv)
	if err != nil {
		return nil, err
	}
	sess.fetcher = newWatchFetcher(s, m, sess.transportClient(), log, metrics)
	return sess, nil
}

func newWatchFetcher(s *Settings, m *manifest.Manifest, client *http.Client, log *slog.Logger, metrics *observe.Metrics) *keyvault.Fetcher {
	return keyvault.New(keyvault.Options{
		Client:      client,
		Suffix:      m.Cloud.KeyVaultSuffix,
		Concurrency: s.Concurrency,
		Logger:      log,
		Retry:       policy.RetryOptions{MaxRetries: watchCheckRetries},
		Observe:     metrics.KeyVaultRequest,
	})
}

// transportClient is the HTTP client the session's credentials and fetcher use:
// the emulator's, or nil for the default.
func (s *session) transportClient() *http.Client {
	if s.emu != nil {
		return s.emu.Client()
	}
	return nil
}
