package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kv-agent/agent/render"
	"github.com/kv-agent/agent/templates"
)

const renderExamples = `  agent render -m /etc/agent/agent.yaml
  AGENT_MANIFEST=/etc/agent/agent.yaml agent render --timeout 30s
  agent render -m examples/quickstart/agent.yaml --emulator examples/quickstart/seed.yaml
`

// commonFlags registers the flags every manifest command shares; they
// override the AGENT_* settings.
func commonFlags(fs *flag.FlagSet, s *Settings) {
	fs.StringVar(&s.Manifest, "m", s.Manifest, "manifest `file` (AGENT_MANIFEST; default ./agent.yaml)")
	fs.StringVar(&s.Manifest, "manifest", s.Manifest, "manifest `file` (same as -m)")
	fs.DurationVar(&s.Timeout, "timeout", s.Timeout, "deadline for the whole run (AGENT_TIMEOUT)")
	fs.StringVar(&s.LogLevel, "log-level", s.LogLevel, "debug, info, warn or error (AGENT_LOG_LEVEL)")
	fs.StringVar(&s.LogFormat, "log-format", s.LogFormat, "text or json (AGENT_LOG_FORMAT)")
	fs.StringVar(&s.Emulator, "emulator", s.Emulator, "start an in-process emulator from this seed `file` and use only it (AGENT_EMULATOR)")
}

// setup reads settings from the environment, then flags, and validates them.
func setup(inv *invocation, fs *flag.FlagSet, args []string, extra func(*Settings)) (*Settings, error) {
	s, err := loadSettings(inv.environ)
	if err != nil {
		return nil, err
	}
	commonFlags(fs, &s)
	if extra != nil {
		extra(&s)
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

func cmdRender(ctx context.Context, inv *invocation, args []string) error {
	tuneForOneShot()
	fs := newFlagSet(inv, "render", "agent render [-m FILE] [--timeout D] [--emulator SEED]", renderExamples)
	s, err := setup(inv, fs, args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return exitf(ExitUsage, "render takes no arguments, got %q", strings.Join(fs.Args(), " "))
	}
	log := s.newLogger(inv.stderr)
	p, err := loadPlan(s.manifestPath())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	sess, err := connect(ctx, s, p.m, log, envMap(inv.environ).get)
	if err != nil {
		return err
	}
	defer sess.close()
	results, err := renderOnce(ctx, sess, p)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &ExitError{Code: ExitTempFail, Err: fmt.Errorf("deadline of %s exceeded; no file was written: %w", s.Timeout, err)}
		}
		return err
	}
	for _, r := range results {
		state := "written"
		if !r.Changed {
			state = "unchanged"
		}
		fmt.Fprintf(inv.stderr, "agent: %s %s (%d bytes)\n", state, r.Path, r.Bytes)
	}
	return nil
}

// renderOnce fetches every secret, renders every file and writes them all
// or none.
func renderOnce(ctx context.Context, sess *session, p *plan) ([]render.Result, error) {
	start := time.Now()
	p.certs.log = sess.log
	secrets, _, err := sess.fetchAll(ctx)
	if err != nil {
		return nil, err
	}
	files, err := p.renderFiles(secrets)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, &ExitError{Code: ExitTempFail, Err: fmt.Errorf("deadline exceeded before writing; no file was written")}
	}
	results, err := writeOutputs(files, "no file was changed", sess.log)
	if err != nil {
		return nil, err
	}
	sess.log.Debug("render complete", "files", len(results), "secrets", len(secrets), "took", time.Since(start).Round(time.Microsecond))
	return results, nil
}

// writeOutputs writes files all or none. A failure carries ExitCantCreat
// and says what it means for the caller ("no file was changed", …). When
// every file is already in place and only syncing a directory failed,
// that is logged as a warning, not reported as a failure: the files were
// changed, and saying otherwise would be wrong.
func writeOutputs(files []render.File, consequence string, log *slog.Logger) ([]render.Result, error) {
	results, err := render.WriteAll(files)
	if err != nil && len(results) == len(files) && len(files) > 0 {
		log.Warn("files written, but a directory could not be synced to disk", "err", err)
		return results, nil
	}
	if err != nil {
		return nil, &ExitError{Code: ExitCantCreat, Err: fmt.Errorf("%w; %s", err, consequence)}
	}
	return results, nil
}

// renderFiles executes every file's template. Nothing is written here.
func (p *plan) renderFiles(secrets map[string]templates.Secret) ([]render.File, error) {
	var files []render.File
	var problems []string
	for i, f := range p.files {
		content, err := p.fileContent(f, secrets)
		if err != nil {
			problems = append(problems, p.m.Errorf(f.spec.TemplatePos, fmt.Sprintf("files[%d]", i), "render %s: %v", f.spec.Path, err).Error())
			continue
		}
		files = append(files, render.File{Path: f.spec.Path, Content: content, Mode: f.spec.Mode, DirMode: f.spec.DirMode, UID: f.uid, GID: f.gid})
	}
	if len(problems) > 0 {
		return nil, &ExitError{Code: ExitDataErr, Err: fmt.Errorf("%s\nno file was written", joinLines(problems))}
	}
	return files, nil
}

func (p *plan) fileContent(f *fileOutput, secrets map[string]templates.Secret) ([]byte, error) {
	if f.tmpl == nil {
		return p.certs.part(f.spec, secrets)
	}
	return f.tmpl.Execute(secrets)
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

type envLookup map[string]string

func (e envLookup) get(k string) string { return e[k] }
