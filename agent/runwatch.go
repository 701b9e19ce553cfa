package agent

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kv-agent/agent/agent/envref"
	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/agent/observe"
	"github.com/kv-agent/agent/agent/sdnotify"
	"github.com/kv-agent/agent/agent/supervise"
)

// agent run --watch: the agent stays the child's parent. It resolves and
// writes exactly as run does, starts the command as its child, and then
// keeps the outputs current as agent watch does. A changed environment
// restarts the child; changed files signal it, restart it or leave it, as
// the manifest says (supervisor.act). Signals sent to the agent are passed
// on to the child (supervise.Forward), SIGHUP excepted: it reloads the
// manifest and checks now. The child's exit ends the agent, with the
// child's exit code.

// runWatchSetup is what agent run --watch resolved before it contacts
// Azure.
type runWatchSetup struct {
	plan *plan                                          // the manifest (or none) plus the references of the environment
	base *envList                                       // the child's environment before references and env entries
	refs []envref.Ref                                   // every reference in base, before the manifest's env entries drop some
	path string                                         // the command's path; "" when resolving can change PATH
	load func(templateFile func(string)) (*plan, error) // watchConfig.load
}

// prepareWatch loads the manifest, builds the child's base environment,
// finds the references in it and, unless resolving can change PATH, the
// command. It contacts nothing.
func (r *runner) prepareWatch(name string) (*runWatchSetup, error) {
	p, err := r.loadPlan()
	if err != nil {
		return nil, err
	}
	var m *manifest.Manifest
	if p != nil {
		m = p.m
	}
	base := baseChildEnv(r.environ, m, r.opts)
	refs, err := envref.Scan(base.environ())
	if err != nil {
		return nil, &ExitError{Code: ExitDataErr, Err: err}
	}
	setup := &runWatchSetup{base: base, refs: refs}
	if setup.plan, err = withEnvReferences(p, refs); err != nil {
		return nil, err
	}
	if p != nil {
		path := p.m.Path
		setup.load = func(templateFile func(string)) (*plan, error) {
			np, err := loadPlanNoting(path, templateFile)
			if err != nil {
				return nil, err
			}
			return withEnvReferences(np, refs)
		}
	} else {
		setup.load = func(func(string)) (*plan, error) { return withEnvReferences(nil, refs) }
	}
	if !setsVar("PATH", withoutManifestEnv(refs, p), p) {
		if setup.path, err = r.lookPath(name, base); err != nil {
			return nil, err
		}
	}
	return setup, nil
}

// withEnvReferences returns the plan the watcher keeps current: p's (or,
// without a manifest, an empty one's) with one secret per reference that
// no env entry of p replaces.
func withEnvReferences(p *plan, refs []envref.Ref) (*plan, error) {
	refs = withoutManifestEnv(refs, p)
	var m *manifest.Manifest
	if p != nil {
		m = p.m
	} else {
		var err error
		if m, err = envManifest(refs); err != nil {
			return nil, err
		}
	}
	sm, err := withReferences(m, refs)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return newPlan(sm)
	}
	np := *p
	np.m = sm
	return &np, nil
}

// runWatch is agent run --watch. It returns nil when the child exited
// with 0, an *ExitError with the child's code when it exited otherwise, or
// the agent's own failure before the child started.
func runWatch(ctx context.Context, inv *invocation, s *Settings, r *runner, argv []string, listen string) error {
	interval, err := testOnlyInterval(inv.environ)
	if err != nil {
		return err
	}
	stdio := supervise.ChildOptions{User: r.opts.user, Stdin: fileOr(inv.stdin, os.Stdin), Stdout: fileOr(inv.stdout, os.Stdout), Stderr: fileOr(inv.stderr, os.Stderr)}
	tty := supervise.IsTerminal(stdio.Stdin)
	// Catch signals before anything else: from here on, none may kill the
	// agent and leave a child behind.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, supervise.Signals(tty)...)
	defer signal.Stop(sigs)

	setup, err := r.prepareWatch(argv[0])
	if err != nil {
		return err
	}
	log := r.log
	getenv := envMap(inv.environ).get
	metrics := observe.New(nil)
	sess, err := connectWatch(ctx, s, setup.plan.m, log, getenv, metrics)
	if err != nil {
		return err
	}
	defer sess.close()
	reaper := supervise.NewReaper(os.Getpid() == 1)
	defer reaper.Close()

	q := newChangeQueue()
	var w *watcher
	hooks := q.hooks(func() *watcher { return w })
	hooks.run = reaper.Run // onChange commands: the reaper must leave their status to them
	w = newWatcher(watchConfig{
		settings: s, plan: setup.plan, sess: sess, log: log, metrics: metrics, environ: inv.environ, output: inv.stderr,
		interval: interval, load: setup.load, hooks: hooks,
	})

	// The watcher and the child must outlive the signal that cancels ctx:
	// the supervisor decides what a SIGTERM means.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	notifier := sdnotify.New(getenv)
	if err := serveBeside(wctx, &wg, w, listen, notifier, getenv, log); err != nil {
		return err
	}
	watchDone := make(chan error, 1)
	wg.Go(func() { watchDone <- w.run(wctx) })

	sup := &supervisor{
		log: log, reaper: reaper, argv: argv, base: setup.base, path: setup.path, opts: stdio, tty: tty,
		lookPath: r.lookPath, q: q, w: w, sigs: sigs, watchDone: watchDone, cancel: cancel,
		ready: func() {
			if err := notifier.Notify(sdnotify.Ready); err != nil {
				log.Warn("cannot tell systemd the agent is ready", "err", err)
			}
		},
	}
	err = sup.run(s.Timeout)
	cancel()
	_ = notifier.Notify(sdnotify.Stopping)
	return err
}

// testOnlyInterval reads AGENT_TESTONLY_WATCH_INTERVAL (0 when unset).
func testOnlyInterval(environ []string) (time.Duration, error) {
	v := envMap(environ).get(testOnlyIntervalVar)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, exitf(ExitUsage, "invalid %s %q: must be a positive duration", testOnlyIntervalVar, v)
	}
	return d, nil
}

// fileOr returns v as a file, or def when it is not one.
func fileOr(v any, def *os.File) *os.File {
	if f, ok := v.(*os.File); ok {
		return f
	}
	return def
}

// childEnviron is the child's environment: base with the rendered values
// set (a variable base has keeps its place; new ones follow, sorted). A
// value holding a NUL byte cannot be passed: that is an error naming the
// variable.
func childEnviron(base *envList, values map[string]string) ([]string, error) {
	env := newEnvList(base.environ())
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	var bad []string
	for _, k := range names {
		if strings.ContainsRune(values[k], 0) {
			bad = append(bad, k)
			continue
		}
		env.set(k, values[k])
	}
	if len(bad) > 0 {
		return nil, &ExitError{Code: ExitDataErr, Err: fmt.Errorf("environment variable %s: the value holds a NUL byte, which an environment variable cannot", strings.Join(bad, ", "))}
	}
	return env.environ(), nil
}

// changedNames returns the sorted names of the variables whose values
// differ between a and b: what a restart log line may show.
func changedNames(a, b map[string]string) []string {
	var names []string
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			names = append(names, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}
