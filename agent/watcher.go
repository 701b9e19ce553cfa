package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kv-agent/agent/agent/keyvault"
	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/agent/observe"
	"github.com/kv-agent/agent/render"
	"github.com/kv-agent/agent/templates"
)

// watchHooks are what a mode adds to the watcher when outputs change.
// `agent watch` sets none but ready; `agent run --watch` drives its child
// with them. Every hook runs on the watcher's goroutine: a hook that
// blocks delays the next check.
type watchHooks struct {
	// ready is called once, after the first complete render.
	ready func()
	// filesChanged is called after a check rewrote files (their bytes
	// changed), once per check, after their onChange commands ran.
	filesChanged func(ctx context.Context, files []*manifest.File)
	// envChanged is called when a check changed some env value; env is the
	// whole new set, by variable name.
	envChanged func(ctx context.Context, env map[string]string)
	// signal delivers a file's onChange signal to the child. Nil means
	// there is no child: the watcher logs that the signal needs one.
	signal func(sig syscall.Signal) error
	// run runs an onChange command (start and wait). Nil means cmd.Run;
	// agent run --watch runs them through its reaper, which must not take
	// their exit status.
	run func(cmd *exec.Cmd) error
}

// watchConfig is how a watcher is built.
type watchConfig struct {
	settings *Settings
	plan     *plan
	sess     *session
	log      *slog.Logger
	metrics  *observe.Metrics
	hooks    watchHooks
	environ  []string  // the agent's environment: onChange commands get it, minus credentials
	output   io.Writer // onChange commands' stdout and stderr
	// interval, when positive, replaces watch.interval and its minimum
	// (AGENT_TESTONLY_WATCH_INTERVAL).
	interval time.Duration
	// load loads the manifest again (reload), calling templateFile with
	// each template file it names; nil means loadPlanNoting of the running
	// manifest's path. agent run --watch adds the references of its
	// environment with it.
	load func(templateFile func(string)) (*plan, error)
}

// watcher keeps a manifest's outputs current: it renders everything once,
// then checks for new versions every interval and re-renders only what a
// changed secret feeds. All its state belongs to the goroutine in run,
// except readiness, which /readyz reads.
type watcher struct {
	cfg     watchConfig
	log     *slog.Logger
	metrics *observe.Metrics
	now     func() time.Time

	sess    *session
	checker *keyvault.Checker
	plan    *plan
	deps    *outputDeps
	secrets map[string]*keyvault.Secret // by manifest name: the versions in use
	written map[string]render.File      // by path: what the agent last put there
	env     map[string]string           // the env values rendered last

	files   *fileEvents // nil until run starts watching
	unseen  bool        // files watches directories whose past is unseen: catch up
	named   []string    // template files a manifest not (yet) running names
	loadErr string      // why the manifest last failed to load; "" when it did not
	restore *restorer
	reload  chan struct{} // reload the manifest and check now

	mu       sync.Mutex
	rendered bool
	lastOK   time.Time
	lastErr  error
	readyIv  time.Duration // the interval readiness is judged by
}

// newWatcher returns a watcher; run starts it. The session's fetcher
// reports to the metrics when built by newWatchSession.
func newWatcher(cfg watchConfig) *watcher {
	w := &watcher{
		cfg: cfg, log: cfg.log, metrics: cfg.metrics, now: time.Now,
		sess: cfg.sess, plan: cfg.plan, checker: keyvault.NewChecker(cfg.sess.fetcher),
		written: map[string]render.File{},
		reload:  make(chan struct{}, 1),
	}
	if w.metrics == nil {
		w.metrics = observe.New(nil)
	}
	w.restore = newRestorer(w.now)
	return w
}

// requestReload asks the watcher to reload the manifest and check now
// (SIGHUP). It never blocks; requests that arrive together count once.
func (w *watcher) requestReload() {
	select {
	case w.reload <- struct{}{}:
	default:
	}
}

// interval is the current check interval.
func (w *watcher) interval() time.Duration {
	if w.cfg.interval > 0 {
		return w.cfg.interval
	}
	return w.plan.m.Watch.Interval
}

// nextCheck is the interval with ±jitter.
func (w *watcher) nextCheck() time.Duration {
	iv := w.interval()
	j := w.plan.m.Watch.Jitter
	return time.Duration(float64(iv) * (1 + j*(2*rand.Float64()-1)))
}

// backoff is the delay after the n-th failure in a row (n >= 1):
// exponential from one second, ±20% jitter, capped at the interval.
func (w *watcher) backoff(n int) time.Duration {
	d := time.Second << min(n-1, 16)
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return min(d, w.interval())
}

// ready reports whether the first render is done and the last check
// succeeded within two intervals: nil, or why not.
func (w *watcher) ready() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case !w.rendered:
		return errors.New("first render not done")
	case w.lastErr != nil:
		return fmt.Errorf("last check failed: %s", firstLineOf(w.lastErr.Error()))
	case w.now().Sub(w.lastOK) > 2*w.readyIv:
		return fmt.Errorf("no successful check since %s", w.lastOK.UTC().Format(time.RFC3339))
	}
	return nil
}

func (w *watcher) recordCheck(err error) {
	now := w.now()
	w.mu.Lock()
	w.lastErr = err
	if err == nil {
		w.lastOK = now
	}
	w.mu.Unlock()
	w.metrics.CheckDone(err == nil, now)
	w.metrics.SetReady(w.ready() == nil)
}

// run renders every output, then keeps them current until ctx is done.
// It returns nil when ctx ends, or the first render's error when that
// cannot succeed by waiting (anything but a temporary failure).
func (w *watcher) run(ctx context.Context) error {
	if err := w.firstRender(ctx); err != nil {
		return err
	}
	w.keep(ctx)
	return nil
}

// keep watches the files and checks Key Vault until ctx is done, keeping
// the outputs of the first render current.
func (w *watcher) keep(ctx context.Context) {
	files, err := watchFiles(w.log)
	if err != nil {
		w.log.Warn("cannot watch files; manifest changes need SIGHUP and outputs are verified at each check only", "err", err)
	} else {
		w.files = files
		defer files.close()
		w.watch()
		// Outputs damaged since they were written are restored before the
		// agent says it is ready; the manifest is read again just after,
		// by catchUp (a changed one renders everything anew, which must
		// not delay readiness).
		w.verifyOutputs()
		w.unseen = true
	}
	w.becomeReady()
	failures := 0
	timer := time.NewTimer(w.nextCheck())
	defer timer.Stop()
	for {
		w.catchUp(ctx)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-w.reload:
			w.reloadManifest(ctx, false)
		case <-w.files.configChanged():
			// A reload fetches what it renders; no check is needed.
			w.reloadManifest(ctx, false)
			continue
		case <-w.files.outputsTouched():
			for _, p := range w.files.takeTouched() {
				w.restoreLater(p)
			}
			continue
		case <-w.restore.due():
			w.restoreDue()
			continue
		}
		err := w.check(ctx)
		if ctx.Err() != nil {
			return
		}
		w.recordCheck(err)
		delay := w.nextCheck()
		if err != nil {
			failures++
			delay = w.backoff(failures)
			w.log.Warn("check failed; every output stays as it is", "err", err, "attempt", failures, "retry_in", delay.Round(time.Millisecond))
		} else {
			failures = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(delay)
	}
}

// firstRender fetches every secret and renders every output, retrying
// temporary failures with backoff until ctx ends.
func (w *watcher) firstRender(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		err := w.renderAll(ctx, w.plan, w.sess, true)
		if err == nil {
			w.metrics.Succeeded(w.now())
			w.log.Info("first render complete", "files", len(w.plan.files), "secrets", len(w.secrets), "interval", w.interval())
			return nil
		}
		if c := exitCode(err); c != ExitTempFail && c != ExitUnavailable {
			return err
		}
		delay := w.backoff(attempt)
		w.log.Warn("first render failed; retrying", "err", err, "attempt", attempt, "retry_in", delay.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return &ExitError{Code: ExitTempFail, Err: fmt.Errorf("stopped before the first render succeeded: %w", err)}
		case <-time.After(delay):
		}
	}
}

// becomeReady marks the watcher ready (/readyz, systemd's READY=1, the
// child of agent run --watch starts): the first render is done, its
// outputs are in place and watched.
func (w *watcher) becomeReady() {
	w.mu.Lock()
	w.rendered, w.lastOK = true, w.now()
	w.mu.Unlock()
	w.metrics.SetReady(true)
	if w.cfg.hooks.ready != nil {
		w.cfg.hooks.ready()
	}
}

// watch points the file watches at the running plan's configuration and
// outputs, and at the template files a newer manifest names. It reports
// whether it watches something new: what happened there before was not
// seen, and the caller catches up on it.
func (w *watcher) watch() (added bool) {
	return w.files != nil && w.files.set(w.plan, w.written, w.named)
}

// catchUp reads the manifest again and verifies the outputs when
// directories were newly watched: an edit or a deletion made before would
// otherwise wait for the next event or check. When nothing happened, it
// changes nothing and says nothing. A reload it applies may watch new
// directories in turn; it catches up on those too, a few rounds at most.
func (w *watcher) catchUp(ctx context.Context) {
	for range 3 {
		if !w.unseen || ctx.Err() != nil {
			return
		}
		w.unseen = false
		w.reloadManifest(ctx, true)
		w.verifyOutputs()
	}
}

// renderAll fetches every secret of p with sess and renders all of p's
// outputs. On success p, sess and the secrets become the watcher's.
func (w *watcher) renderAll(ctx context.Context, p *plan, sess *session, first bool) error {
	cctx, cancel := context.WithTimeout(ctx, w.cfg.settings.Timeout)
	defer cancel()
	p.certs.log = w.log
	_, byName, err := sess.fetchAll(cctx)
	if err != nil {
		return err
	}
	return w.apply(ctx, p, byName, nil, first)
}

// check asks Key Vault for new versions and applies them.
func (w *watcher) check(ctx context.Context) error {
	w.verifyOutputs()
	cctx, cancel := context.WithTimeout(ctx, w.cfg.settings.Timeout)
	defer cancel()
	start := w.now()
	held := make([]keyvault.Held, 0, len(w.plan.m.Secrets))
	for name, sec := range w.plan.m.Secrets {
		held = append(held, keyvault.Held{
			Request: keyvault.Request{Ref: w.sess.ref(sec), Credential: w.sess.creds[sec.Identity], AllowExpired: sec.AllowExpired},
			Secret:  w.secrets[name],
		})
	}
	ch, err := w.checker.Check(cctx, held)
	if err != nil {
		return fetchError(w.plan.m, err)
	}
	w.log.Debug("check complete", "changed", len(ch.Changed), "requests", ch.Requests, "took", w.now().Sub(start).Round(time.Microsecond))
	if len(ch.Changed) == 0 {
		return nil
	}
	next := make(map[string]*keyvault.Secret, len(w.secrets))
	changed := map[string]bool{}
	for name, s := range w.secrets {
		next[name] = s
	}
	for name, sec := range w.plan.m.Secrets {
		if s, ok := ch.Changed[w.sess.ref(sec)]; ok {
			next[name] = s
			changed[name] = true
			old := ""
			if w.secrets[name] != nil {
				old = w.secrets[name].Version
			}
			w.log.Info("new secret version", "secret", name, "ref", s.Ref.String(), "version", s.Version, "previous", old)
		}
	}
	return w.apply(ctx, w.plan, next, changed, false)
}

// apply renders the outputs of p that use a changed secret (all of them
// when changed is nil), writes the files whose bytes changed, and runs
// what follows a change. Nothing is written unless every affected output
// rendered; on success p and secrets become the watcher's.
func (w *watcher) apply(ctx context.Context, p *plan, secrets map[string]*keyvault.Secret, changed map[string]bool, first bool) error {
	tsecrets := make(map[string]templates.Secret, len(secrets))
	for name, s := range secrets {
		tsecrets[name] = toTemplateSecret(name, s)
	}
	deps := w.deps
	if changed == nil || p != w.plan {
		deps = computeDeps(p, tsecrets, w.log)
	}
	files, specs, err := renderAffected(p, deps, tsecrets, changed)
	if err != nil {
		return err
	}
	env, err := renderEnvValues(p, tsecrets)
	if err != nil {
		return err
	}
	existed := make([]bool, len(files))
	for i, f := range files {
		_, statErr := os.Lstat(f.Path)
		existed[i] = statErr == nil
	}
	results, err := writeOutputs(files, "no file was changed", w.log)
	if err != nil {
		return err
	}
	if p != w.plan {
		// A reloaded manifest may have dropped outputs: stop restoring them.
		keep := make(map[string]bool, len(p.files))
		for _, f := range p.files {
			keep[f.spec.Path] = true
		}
		for path := range w.written {
			if !keep[path] {
				delete(w.written, path)
			}
		}
	}
	w.plan, w.deps, w.secrets = p, deps, secrets
	w.mu.Lock()
	w.readyIv = w.interval()
	w.mu.Unlock()
	for _, f := range files {
		w.written[f.Path] = f
	}
	w.publishSecrets()
	var rewritten []*manifest.File
	for i, r := range results {
		if r.Changed && (!first || existed[i]) {
			rewritten = append(rewritten, specs[i])
			w.log.Info("file rewritten", "path", r.Path, "bytes", r.Bytes)
		} else if r.Changed {
			w.log.Info("file written", "path", r.Path, "bytes", r.Bytes)
		}
	}
	w.metrics.FilesWritten(countChanged(results))
	if w.watch() {
		w.unseen = true
	}
	w.afterChange(ctx, rewritten)
	envChanged := w.env != nil && !equalEnv(w.env, env)
	w.env = env
	if envChanged && w.cfg.hooks.envChanged != nil {
		w.cfg.hooks.envChanged(ctx, env)
	}
	return nil
}

// renderAffected renders the files of p that use a changed secret (every
// file when changed is nil).
func renderAffected(p *plan, deps *outputDeps, secrets map[string]templates.Secret, changed map[string]bool) ([]render.File, []*manifest.File, error) {
	var files []render.File
	var specs []*manifest.File
	var problems []string
	for i, f := range p.files {
		if changed != nil && !deps.files[i].uses(changed) {
			continue
		}
		content, err := p.fileContent(f, secrets)
		if err != nil {
			problems = append(problems, p.m.Errorf(f.spec.TemplatePos, fmt.Sprintf("files[%d]", i), "render %s: %v", f.spec.Path, err).Error())
			continue
		}
		files = append(files, render.File{Path: f.spec.Path, Content: content, Mode: f.spec.Mode, DirMode: f.spec.DirMode, UID: f.uid, GID: f.gid})
		specs = append(specs, f.spec)
	}
	if len(problems) > 0 {
		return nil, nil, &ExitError{Code: ExitDataErr, Err: fmt.Errorf("%s\nno file was written", joinLines(problems))}
	}
	return files, specs, nil
}

// renderEnvValues renders every env entry of p, and gives each reference
// in the environment (a secret named "env:VAR", agent run only) its value.
func renderEnvValues(p *plan, secrets map[string]templates.Secret) (map[string]string, error) {
	env := make(map[string]string, len(p.env))
	for name, s := range secrets {
		if v, ok := strings.CutPrefix(name, envSecretPrefix); ok {
			env[v] = s.Value
		}
	}
	var problems []string
	for _, e := range p.env {
		out, err := e.tmpl.Execute(secrets)
		if err != nil {
			problems = append(problems, p.m.Errorf(e.spec.Pos, "env."+e.spec.Name, "render: %v", err).Error())
			continue
		}
		env[e.spec.Name] = string(out)
	}
	if len(problems) > 0 {
		return nil, &ExitError{Code: ExitDataErr, Err: errors.New(joinLines(problems))}
	}
	return env, nil
}

func equalEnv(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func countChanged(rs []render.Result) int {
	n := 0
	for _, r := range rs {
		if r.Changed {
			n++
		}
	}
	return n
}

// publishSecrets gives the metrics the versions in use.
func (w *watcher) publishSecrets() {
	infos := make([]observe.SecretInfo, 0, len(w.secrets))
	for name, s := range w.secrets {
		vault := ""
		if sec := w.plan.m.Secrets[name]; sec != nil {
			vault = sec.Vault
		}
		infos = append(infos, observe.SecretInfo{Name: name, Vault: vault, Version: s.Version, Created: s.Created, Expires: s.Expires})
	}
	w.metrics.SetSecrets(infos)
}

func firstLineOf(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i] + " (and more)"
		}
	}
	return s
}
