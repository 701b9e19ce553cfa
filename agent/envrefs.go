package agent

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/kv-agent/agent/agent/envref"
	"github.com/kv-agent/agent/agent/keyvault"
	"github.com/kv-agent/agent/agent/manifest"
)

// envSecretPrefix starts the names of the manifest secrets that stand for
// references in the environment ("env:DB_PASSWORD"). A manifest's own
// secret names cannot contain ":", so the two never collide.
const envSecretPrefix = "env:"

// environmentSource names the environment where a manifest path would be.
const environmentSource = "(environment)"

// knownClouds returns the well-known clouds, as the manifest package
// defines them.
func knownClouds() []manifest.Cloud {
	var clouds []manifest.Cloud
	for _, name := range []string{manifest.CloudPublic, manifest.CloudChina, manifest.CloudUSGovernment} {
		m, err := manifest.Parse(environmentSource, []byte("version: 1\ncloud: "+name+"\n"), manifest.LoadOptions{})
		if err == nil {
			clouds = append(clouds, m.Cloud)
		}
	}
	return clouds
}

// envManifest returns the manifest of "agent run" without a manifest
// file: the default identity (kind auto) and the cloud of the references'
// vault hosts. References in more than one cloud, or a host in none, are
// errors naming the variables.
func envManifest(refs []envref.Ref) (*manifest.Manifest, error) {
	clouds := knownClouds()
	cloud := manifest.CloudPublic
	var errs envref.Errors
	var firstVar string
	for _, r := range refs {
		if r.Host == "" {
			continue
		}
		name := ""
		for _, c := range clouds {
			if strings.HasSuffix(r.Host, "."+c.KeyVaultSuffix) {
				name = c.Name
			}
		}
		switch {
		case name == "":
			var suffixes []string
			for _, c := range clouds {
				suffixes = append(suffixes, c.KeyVaultSuffix)
			}
			errs = append(errs, &envref.Error{Var: r.Var, Msg: fmt.Sprintf("host %q is not a Key Vault host of a known Azure cloud (%s); use a manifest for other clouds", r.Host, strings.Join(suffixes, ", "))})
		case firstVar == "":
			cloud, firstVar = name, r.Var
		case name != cloud:
			errs = append(errs, &envref.Error{Var: r.Var, Msg: fmt.Sprintf("vault host %q is in cloud %s, but %s refers to cloud %s; one run uses one cloud", r.Host, name, firstVar, cloud)})
		}
	}
	if len(errs) > 0 {
		return nil, &ExitError{Code: ExitDataErr, Err: errs}
	}
	m, err := manifest.Parse(environmentSource, []byte("version: 1\ncloud: "+cloud+"\n"), manifest.LoadOptions{})
	if err != nil {
		return nil, withCode(ExitSoftware, fmt.Errorf("build manifest for the environment: %w", err))
	}
	return m, nil
}

// withReferences returns a copy of m with one vault per referenced host
// and one secret ("env:VAR") per reference, read with the default
// identity. m itself is not changed.
func withReferences(m *manifest.Manifest, refs []envref.Ref) (*manifest.Manifest, error) {
	out := *m
	out.Vaults = make(map[string]*manifest.Vault, len(m.Vaults)+len(refs))
	for k, v := range m.Vaults {
		out.Vaults[k] = v
	}
	out.Secrets = make(map[string]*manifest.Secret, len(m.Secrets)+len(refs))
	for k, s := range m.Secrets {
		out.Secrets[k] = s
	}
	var errs envref.Errors
	for _, r := range refs {
		url, err := r.VaultURL(m.Cloud.KeyVaultSuffix)
		if err != nil {
			var e *envref.Error
			errors.As(err, &e)
			errs = append(errs, e)
			continue
		}
		vault := envSecretPrefix + strings.TrimPrefix(url, "https://")
		out.Vaults[vault] = &manifest.Vault{Name: vault, URL: url, Identity: manifest.DefaultIdentity}
		name := envSecretPrefix + r.Var
		out.Secrets[name] = &manifest.Secret{Name: name, Vault: vault, SecretName: r.Name, Version: r.Version, Identity: manifest.DefaultIdentity}
	}
	if len(errs) > 0 {
		return nil, &ExitError{Code: ExitDataErr, Err: errs}
	}
	return &out, nil
}

// refFetchError is a failed fetch in "agent run": each failed reference is
// named by the manifest secret behind it (file:line) or, for a reference
// in the environment, by its variable.
type refFetchError struct {
	m    *manifest.Manifest
	errs keyvault.Errors
}

// runFetchError rewrites the error of session.fetchAll for agent run,
// keeping its exit code.
func runFetchError(m *manifest.Manifest, err error) error {
	var kerrs keyvault.Errors
	var ee *ExitError
	if !errors.As(err, &kerrs) || !errors.As(err, &ee) {
		return err
	}
	return &ExitError{Code: ee.Code, Err: &refFetchError{m: m, errs: kerrs}}
}

func (f *refFetchError) Error() string {
	lines := make([]string, 0, len(f.errs))
	for _, e := range f.errs {
		var vars, own []string
		for _, name := range secretNamesFor(f.m, e.Ref) {
			if v, ok := strings.CutPrefix(name, envSecretPrefix); ok {
				vars = append(vars, v)
			} else {
				own = append(own, name)
			}
		}
		switch {
		case len(own) > 0:
			sec := f.m.Secrets[own[0]]
			lines = append(lines, fmt.Sprintf("%s:%d:%d: secrets.%s: %s", f.m.Path, sec.Pos.Line, sec.Pos.Col, own[0], e.Error()))
		case len(vars) > 0:
			sort.Strings(vars)
			lines = append(lines, fmt.Sprintf("environment variable %s: %s", strings.Join(vars, ", "), e.Error()))
		default:
			lines = append(lines, e.Error())
		}
	}
	return joinLines(lines)
}

func (f *refFetchError) Unwrap() error { return f.errs }

// Hint returns the first failure's hint.
func (f *refFetchError) Hint() string {
	for _, e := range f.errs {
		if h := e.Hint(); h != "" {
			return h
		}
	}
	return ""
}
