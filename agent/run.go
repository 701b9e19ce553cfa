package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/kv-agent/agent/agent/envref"
	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/agent/supervise"
	"github.com/kv-agent/agent/render"
	"github.com/kv-agent/agent/templates"
)

const runExamples = `  agent run -m /etc/agent/agent.yaml -- /opt/app/bin/app --port 8080
  DB_PASSWORD='@Microsoft.KeyVault(VaultName=contoso;SecretName=db-password)' agent run -- ./app
  agent run --user app:app -m agent.yaml -- app     # as root: write files, then run as app
  ENTRYPOINT ["/agent", "run", "--"]                # Dockerfile: the container's command follows
  agent run --watch -m agent.yaml -- /opt/app/bin/app   # stay the parent: restart or signal app on rotation
`

// runOptions are agent run's own flags.
type runOptions struct {
	keepCredentials bool
	pristine        bool
	user            string
	watch           bool
	listen          string
}

// cmdRun resolves every secret of the manifest (if any) and every Key
// Vault reference in the environment, writes the manifest's files, then
// replaces the agent with the command. Nothing is written and nothing runs
// unless everything resolved. With --watch the agent starts the command
// as its child instead and keeps it current (runWatch).
func cmdRun(ctx context.Context, inv *invocation, args []string) error {
	fs := newFlagSet(inv, "run", "agent run [-m FILE] [--pristine] [--keep-credentials] [--user USER[:GROUP]] [--watch [--listen ADDR]] -- CMD [ARGS...]", runExamples)
	var o runOptions
	s, err := setup(inv, fs, args, func(*Settings) { runFlags(fs, &o) })
	if err != nil {
		return err
	}
	if o.listen != "" && !o.watch {
		return exitf(ExitUsage, "--listen needs --watch: without it the agent becomes the command and serves nothing")
	}
	if !o.watch {
		tuneForOneShot() // the long-running --watch keeps the default GC
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return &ExitError{Code: ExitUsage, Err: hinted{errors.New("run needs a command: agent run [flags] -- CMD [ARGS...]"), "put the command after --, e.g. agent run -m agent.yaml -- /opt/app/bin/app"}}
	}
	user, err := runUser(o.user)
	if err != nil {
		return err
	}
	log := s.newLogger(inv.stderr)
	r := &runner{s: s, log: log, environ: inv.environ, opts: childEnvOptions{keepCredentials: o.keepCredentials, pristine: o.pristine, user: user}}
	if o.watch {
		return runWatch(ctx, inv, s, r, argv, o.listen)
	}
	path, env, err := r.prepare(ctx, argv[0])
	if err != nil {
		return err
	}
	log.Debug("exec", "path", path, "args", len(argv)-1, "env", len(env))
	return execError(supervise.Exec(path, argv, env, user))
}

func runFlags(fs *flag.FlagSet, o *runOptions) {
	fs.BoolVar(&o.keepCredentials, "keep-credentials", false, "pass the agent's own credentials (AZURE_CLIENT_SECRET, IDENTITY_HEADER, ...) to the command")
	fs.BoolVar(&o.pristine, "pristine", false, "start the command's environment empty but for PATH, HOME, USER, TZ, LANG and the manifest's env")
	fs.StringVar(&o.user, "user", "", "run the command as `USER[:GROUP]` (a name or a numeric id; needs root)")
	fs.BoolVar(&o.watch, "watch", false, "stay the command's parent: keep files and environment current, restart or signal the command when they change, pass signals on")
	fs.StringVar(&o.listen, "listen", "", "with --watch: serve /healthz, /readyz and /metrics on `addr` (host:port; loopback recommended; off by default)")
}

// runUser resolves --user before anything is fetched or written.
func runUser(spec string) (*supervise.UserSpec, error) {
	if spec == "" {
		return nil, nil
	}
	u, err := supervise.LookupUser(spec)
	if err != nil {
		return nil, &ExitError{Code: ExitConfig, Err: err}
	}
	if os.Geteuid() != 0 {
		return nil, &ExitError{Code: ExitNoPerm, Err: hinted{fmt.Errorf("--user %s needs root; the agent runs as uid %d", spec, os.Geteuid()), "run the agent as root, or leave out --user and start it as the user instead"}}
	}
	return u, nil
}

// runner is one agent run, up to the exec.
type runner struct {
	s       *Settings
	log     *slog.Logger
	environ []string
	opts    childEnvOptions
}

// prepare does everything before the exec, all or nothing: it returns the
// command's path and environment once every secret resolved, every
// template rendered, the command was found and every file was written.
// The deadline (--timeout) covers only this.
func (r *runner) prepare(ctx context.Context, name string) (string, []string, error) {
	p, err := r.loadPlan()
	if err != nil {
		return "", nil, err
	}
	var m *manifest.Manifest
	if p != nil {
		m = p.m
	}
	env := baseChildEnv(r.environ, m, r.opts)
	refs, err := envref.Scan(env.environ())
	if err != nil {
		return "", nil, &ExitError{Code: ExitDataErr, Err: err}
	}
	refs = withoutManifestEnv(refs, p)
	if m == nil {
		if m, err = envManifest(refs); err != nil {
			return "", nil, err
		}
	}
	sm, err := withReferences(m, refs)
	if err != nil {
		return "", nil, err
	}
	// Look the command up before contacting Azure, unless resolving can
	// change PATH.
	path := ""
	if !setsVar("PATH", refs, p) {
		if path, err = r.lookPath(name, env); err != nil {
			return "", nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, r.s.Timeout)
	defer cancel()
	files, err := r.resolve(ctx, sm, p, env)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", nil, &ExitError{Code: ExitTempFail, Err: fmt.Errorf("deadline of %s exceeded; nothing was written or started: %w", r.s.Timeout, err)}
		}
		return "", nil, err
	}
	if path == "" {
		if path, err = r.lookPath(name, env); err != nil {
			return "", nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return "", nil, &ExitError{Code: ExitTempFail, Err: fmt.Errorf("deadline of %s exceeded before writing; nothing was written or started", r.s.Timeout)}
	}
	results, err := writeOutputs(files, "no file was changed and nothing was started", r.log)
	if err != nil {
		return "", nil, err
	}
	for _, res := range results {
		r.log.Debug("file", "path", res.Path, "bytes", res.Bytes, "changed", res.Changed)
	}
	return path, env.environ(), nil
}

// lookPath finds the command in the child's PATH.
func (r *runner) lookPath(name string, env *envList) (string, error) {
	pathList, _ := env.get("PATH")
	path, err := supervise.LookPath(name, pathList, r.opts.user)
	return path, execError(err)
}

// setsVar reports whether resolving sets the variable name: a reference
// in it, or a manifest env entry.
func setsVar(name string, refs []envref.Ref, p *plan) bool {
	for _, r := range refs {
		if r.Var == name {
			return true
		}
	}
	if p != nil {
		for _, e := range p.env {
			if e.spec.Name == name {
				return true
			}
		}
	}
	return false
}

// loadPlan loads the manifest named by -m or AGENT_MANIFEST, or
// ./agent.yaml when it exists; nil means none: references only.
func (r *runner) loadPlan() (*plan, error) {
	path := r.s.Manifest
	if path == "" {
		if _, err := os.Stat("agent.yaml"); err != nil {
			return nil, nil
		}
		path = "agent.yaml"
	}
	return loadPlan(path)
}

// resolve connects, fetches every secret of sm in one round, renders the
// manifest's files and env entries, and sets the resolved references and
// env entries in env. It writes nothing.
func (r *runner) resolve(ctx context.Context, sm *manifest.Manifest, p *plan, env *envList) ([]render.File, error) {
	secrets := map[string]templates.Secret{}
	if len(sm.Secrets) > 0 {
		sess, err := connect(ctx, r.s, sm, r.log, envMap(r.environ).get)
		if err != nil {
			return nil, err
		}
		defer sess.close()
		if secrets, _, err = sess.fetchAll(ctx); err != nil {
			return nil, runFetchError(sm, err)
		}
	}
	var files []render.File
	if p != nil {
		p.certs.log = r.log
		var err error
		if files, err = p.renderFiles(secrets); err != nil {
			return nil, err
		}
	}
	return files, setEnv(sm, p, secrets, env)
}

// setEnv puts the resolved references and the manifest's env entries into
// env. A manifest entry replaces an inherited variable of the same name.
func setEnv(sm *manifest.Manifest, p *plan, secrets map[string]templates.Secret, env *envList) error {
	var problems []string
	for name := range sm.Secrets {
		v, ok := strings.CutPrefix(name, envSecretPrefix)
		if !ok {
			continue
		}
		value := secrets[name].Value
		if strings.ContainsRune(value, 0) {
			problems = append(problems, fmt.Sprintf("environment variable %s: the secret holds a NUL byte, which an environment variable cannot", v))
			continue
		}
		env.set(v, value)
	}
	if p != nil {
		for _, e := range p.env {
			out, err := e.tmpl.Execute(secrets)
			switch {
			case err != nil:
				problems = append(problems, p.m.Errorf(e.spec.Pos, "env."+e.spec.Name, "render: %v", err).Error())
			case strings.ContainsRune(string(out), 0):
				problems = append(problems, p.m.Errorf(e.spec.Pos, "env."+e.spec.Name, "the rendered value holds a NUL byte, which an environment variable cannot").Error())
			default:
				env.set(e.spec.Name, string(out))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return &ExitError{Code: ExitDataErr, Err: fmt.Errorf("%s\nnothing was written or started", joinLines(problems))}
	}
	return nil
}

// withoutManifestEnv drops the references in variables that the
// manifest's env sets: the manifest's entry wins, and the reference is not
// fetched.
func withoutManifestEnv(refs []envref.Ref, p *plan) []envref.Ref {
	if p == nil {
		return refs
	}
	set := map[string]bool{}
	for _, e := range p.env {
		set[e.spec.Name] = true
	}
	out := refs[:0:0]
	for _, r := range refs {
		if !set[r.Var] {
			out = append(out, r)
		}
	}
	return out
}

// execError gives a failure to start the command the shell's exit code
// (126, 127); a failure to switch user is 77.
func execError(err error) error {
	if err == nil {
		return nil
	}
	var se *supervise.Error
	if errors.As(err, &se) {
		return &ExitError{Code: se.Code, Err: err}
	}
	return &ExitError{Code: ExitNoPerm, Err: err}
}

// hinted is an error with a hint for printError.
type hinted struct {
	error
	hint string
}

func (h hinted) Hint() string  { return h.hint }
func (h hinted) Unwrap() error { return h.error }
