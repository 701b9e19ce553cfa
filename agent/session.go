package agent

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"

	"github.com/kv-agent/agent/agent/credential"
	"github.com/kv-agent/agent/agent/emulator"
	"github.com/kv-agent/agent/agent/keyvault"
	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/templates"
)

// session is the agent connected to Azure (or to an in-process emulator)
// for one manifest: one credential per identity, one fetcher.
type session struct {
	m       *manifest.Manifest
	log     *slog.Logger
	creds   map[string]*credential.Credential
	fetcher *keyvault.Fetcher
	emu     *emulator.Emulator // nil unless --emulator
}

// connect builds the session's credentials and fetcher. With an emulator
// seed it first starts the emulator in-process and routes everything to it.
func connect(ctx context.Context, s *Settings, m *manifest.Manifest, log *slog.Logger, getenv func(string) string) (*session, error) {
	sess := &session{m: m, log: log, creds: map[string]*credential.Credential{}}
	// Loading the system's trusted roots (SSL_CERT_FILE, SSL_CERT_DIR)
	// takes milliseconds; do it while the first token is being fetched
	// instead of in the first TLS handshake to Key Vault.
	go func() { _, _ = x509.SystemCertPool() }()
	var client *http.Client
	if s.Emulator != "" {
		seed, err := emulator.LoadSeed(s.Emulator)
		if err != nil {
			return nil, &ExitError{Code: ExitDataErr, Err: err}
		}
		e, err := emulator.Start(ctx, emulator.Options{Seed: seed, Logger: log.With("component", "emulator")})
		if err != nil {
			return nil, &ExitError{Code: ExitSoftware, Err: fmt.Errorf("start emulator: %w", err)}
		}
		sess.emu = e
		client = e.Client()
		// The emulator is a managed-identity host: environment settings of
		// the real machine must not send the agent elsewhere.
		getenv = func(string) string { return "" }
	}
	for _, name := range usedIdentities(m) {
		cred, err := credential.New(m.Identities[name], credential.Options{
			Client:        client,
			AuthorityHost: m.Cloud.AuthorityHost,
			Getenv:        getenv,
			ProbeTimeout:  s.IMDSProbeTimeout,
			Logger:        log,
		})
		if err != nil {
			sess.close()
			return nil, &ExitError{Code: ExitConfig, Err: err}
		}
		sess.creds[name] = cred
	}
	sess.fetcher = keyvault.New(keyvault.Options{
		Client:      client,
		Suffix:      m.Cloud.KeyVaultSuffix,
		Concurrency: s.Concurrency,
		Logger:      log,
	})
	return sess, nil
}

func (s *session) close() {
	if s.emu != nil {
		s.emu.Close()
	}
}

// usedIdentities returns the sorted names of the identities that some
// secret uses.
func usedIdentities(m *manifest.Manifest) []string {
	seen := map[string]bool{}
	for _, sec := range m.Secrets {
		seen[sec.Identity] = true
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ref returns the Key Vault reference of a manifest secret.
func (s *session) ref(sec *manifest.Secret) keyvault.Ref {
	return keyvault.Ref{VaultURL: s.m.Vaults[sec.Vault].URL, Name: sec.SecretName, Version: sec.Version}
}

// fetchAll fetches every secret the manifest declares. It returns the
// secrets keyed by manifest name; on any failure it returns an error
// listing every failed reference, carrying the exit code of the most
// serious kind.
func (s *session) fetchAll(ctx context.Context) (map[string]templates.Secret, map[string]*keyvault.Secret, error) {
	reqs := make([]keyvault.Request, 0, len(s.m.Secrets))
	for _, sec := range s.m.Secrets {
		reqs = append(reqs, keyvault.Request{Ref: s.ref(sec), Credential: s.creds[sec.Identity], AllowExpired: sec.AllowExpired})
	}
	got, err := s.fetcher.Fetch(ctx, reqs)
	byName := make(map[string]*keyvault.Secret, len(s.m.Secrets))
	out := make(map[string]templates.Secret, len(s.m.Secrets))
	for name, sec := range s.m.Secrets {
		if kv, ok := got[keyvault.Key{Ref: s.ref(sec), Identity: sec.Identity}]; ok {
			byName[name] = kv
			out[name] = toTemplateSecret(name, kv)
		}
	}
	if err != nil {
		return out, byName, fetchError(s.m, err)
	}
	return out, byName, nil
}

func toTemplateSecret(name string, kv *keyvault.Secret) templates.Secret {
	return templates.Secret{
		Name: name, Value: kv.Value, Version: kv.Version, ContentType: kv.ContentType,
		Tags: kv.Tags, Enabled: kv.Enabled, Created: kv.Created, Updated: kv.Updated,
		Expires: kv.Expires, NotBefore: kv.NotBefore,
	}
}

// fetchError names the manifest secrets behind each failed reference and
// picks the exit code.
func fetchError(m *manifest.Manifest, err error) error {
	var kerrs keyvault.Errors
	if !errors.As(err, &kerrs) {
		return withCode(ExitSoftware, err)
	}
	code := 0
	for _, ke := range kerrs {
		code = moreSerious(code, codeFor(ke))
	}
	return &ExitError{Code: code, Err: &fetchErrors{m: m, errs: kerrs}}
}

type fetchErrors struct {
	m    *manifest.Manifest
	errs keyvault.Errors
}

func (f *fetchErrors) Error() string {
	var lines []string
	for _, e := range f.errs {
		line := e.Error()
		for _, name := range secretNamesFor(f.m, e.Ref) {
			sec := f.m.Secrets[name]
			line = fmt.Sprintf("%s:%d:%d: secrets.%s: %s", f.m.Path, sec.Pos.Line, sec.Pos.Col, name, e.Error())
			break
		}
		lines = append(lines, line)
	}
	return joinLines(lines)
}

func (f *fetchErrors) Unwrap() error { return f.errs }

// Hint returns the first failure's hint.
func (f *fetchErrors) Hint() string {
	for _, e := range f.errs {
		if h := e.Hint(); h != "" {
			return h
		}
	}
	return ""
}

func secretNamesFor(m *manifest.Manifest, ref keyvault.Ref) []string {
	var names []string
	for name, sec := range m.Secrets {
		if m.Vaults[sec.Vault].URL == ref.VaultURL && sec.SecretName == ref.Name && sec.Version == ref.Version {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// codeFor maps one failed reference to its exit code.
func codeFor(e *keyvault.Error) int {
	switch {
	case errors.Is(e, keyvault.ErrNotFound), errors.Is(e, keyvault.ErrDisabled),
		errors.Is(e, keyvault.ErrExpired), errors.Is(e, keyvault.ErrNotYetValid):
		return ExitNoInput
	case errors.Is(e, keyvault.ErrForbidden):
		return ExitNoPerm
	case errors.Is(e, keyvault.ErrAuthentication):
		if credential.IsUnavailable(e) {
			return ExitUnavailable
		}
		var ce *credential.ConfigError
		if errors.As(e, &ce) {
			return ExitConfig
		}
		return ExitNoPerm
	case errors.Is(e, keyvault.ErrThrottled), errors.Is(e, keyvault.ErrDeadline):
		return ExitTempFail
	case errors.Is(e, keyvault.ErrCanceled):
		return ExitInterrupted
	case errors.Is(e, keyvault.ErrUnavailable):
		if e.Status >= 500 {
			return ExitTempFail
		}
		return ExitUnavailable
	case errors.Is(e, keyvault.ErrHostNotAllowed):
		return ExitConfig
	}
	return ExitSoftware
}

// moreSerious returns the code that wins when failures of both kinds
// happen in one run: access problems first, then missing secrets, then an
// unreachable Azure, then temporary failures.
func moreSerious(a, b int) int {
	rank := map[int]int{ExitInterrupted: 7, ExitNoPerm: 6, ExitConfig: 5, ExitNoInput: 4, ExitUnavailable: 3, ExitTempFail: 2, ExitSoftware: 1}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
