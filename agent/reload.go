package agent

import (
	"context"
	"reflect"

	"github.com/kv-agent/agent/agent/credential"
	"github.com/kv-agent/agent/agent/keyvault"
	"github.com/kv-agent/agent/agent/manifest"
)

// reloadManifest loads the manifest again. An invalid one is logged and
// the running configuration kept; a valid, different one is applied with
// a full fetch and render, and replaces the running one only if that
// succeeds. An unchanged one is logged at debug level, unless quiet (a
// catch-up read), which also says nothing of the same failure twice.
func (w *watcher) reloadManifest(ctx context.Context, quiet bool) {
	load := w.cfg.load
	if load == nil {
		load = func(templateFile func(string)) (*plan, error) { return loadPlanNoting(w.plan.m.Path, templateFile) }
	}
	var named []string
	read := func() (*plan, error) {
		named = nil
		return load(func(path string) { named = append(named, path) })
	}
	p, err := read()
	// Watch the template files this manifest names from now on, before
	// anything else: one edited while the reload renders, or created
	// after a reload that failed for want of it, brings the next reload.
	// What changed in a place watched for the first time was not seen:
	// read again, until nothing new is watched (a few rounds at most).
	for round := 1; ; round++ {
		w.named = nil
		if err != nil || !reflect.DeepEqual(p.m, w.plan.m) {
			w.named = named
		}
		if !w.watch() {
			break
		}
		if round == 3 {
			w.unseen = true // keep's catchUp reads once more
			break
		}
		p, err = read()
	}
	if err != nil {
		if quiet && err.Error() == w.loadErr {
			return
		}
		w.loadErr = err.Error()
		w.metrics.Reload(false)
		w.log.Error("manifest not reloaded; the previous one keeps running", "manifest", w.plan.m.Path, "err", err)
		return
	}
	w.loadErr = ""
	if reflect.DeepEqual(p.m, w.plan.m) {
		if !quiet {
			w.log.Debug("manifest unchanged", "manifest", w.plan.m.Path)
		}
		return
	}
	sess, err := w.rebind(p.m)
	if err != nil {
		w.metrics.Reload(false)
		w.log.Error("manifest not reloaded; the previous one keeps running", "manifest", w.plan.m.Path, "err", err)
		return
	}
	if err := w.renderAll(ctx, p, sess, false); err != nil {
		w.metrics.Reload(false)
		w.log.Error("manifest not reloaded: its outputs could not be rendered; the previous one keeps running", "manifest", w.plan.m.Path, "err", err)
		return
	}
	if sess.fetcher != w.sess.fetcher {
		w.checker = keyvault.NewChecker(sess.fetcher)
	}
	w.sess = sess
	w.named = nil // the running plan's now
	w.metrics.Reload(true)
	w.log.Info("manifest reloaded", "manifest", p.m.Path, "files", len(p.files), "secrets", len(p.m.Secrets))
}

// rebind returns a session for m. Credentials and the fetcher are kept
// when the identities and the cloud are the same, so tokens and
// connections carry over; otherwise they are built anew (the in-process
// emulator, if any, is kept).
func (w *watcher) rebind(m *manifest.Manifest) (*session, error) {
	old := w.sess
	ns := &session{m: m, log: old.log, creds: old.creds, fetcher: old.fetcher, emu: old.emu}
	if sameIdentities(old.m, m) {
		return ns, nil
	}
	getenv := envMap(w.cfg.environ).get
	if old.emu != nil {
		getenv = func(string) string { return "" }
	}
	client := old.transportClient()
	ns.creds = map[string]*credential.Credential{}
	for _, name := range usedIdentities(m) {
		cred, err := credential.New(m.Identities[name], credential.Options{
			Client: client, AuthorityHost: m.Cloud.AuthorityHost, Getenv: getenv,
			ProbeTimeout: w.cfg.settings.IMDSProbeTimeout, Logger: old.log,
		})
		if err != nil {
			return nil, &ExitError{Code: ExitConfig, Err: err}
		}
		ns.creds[name] = cred
	}
	ns.fetcher = newWatchFetcher(w.cfg.settings, m, client, old.log, w.metrics)
	return ns, nil
}

// sameIdentities reports whether a and b have the same cloud and
// identities (positions aside).
func sameIdentities(a, b *manifest.Manifest) bool {
	if a.Cloud != b.Cloud || len(a.Identities) != len(b.Identities) {
		return false
	}
	for name, ia := range a.Identities {
		ib, ok := b.Identities[name]
		if !ok {
			return false
		}
		x, y := *ia, *ib
		x.Pos, y.Pos = manifest.Pos{}, manifest.Pos{}
		if x != y {
			return false
		}
	}
	return true
}
