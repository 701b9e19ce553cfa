package credential

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/kv-agent/agent/agent/manifest"
)

// Options configure how credentials reach Azure.
type Options struct {
	// Client carries every request (IMDS, Entra ID, App Service). Nil means
	// a default client that honours HTTPS_PROXY and friends.
	Client *http.Client
	// AuthorityHost is the Entra ID authority, e.g.
	// https://login.microsoftonline.com. Empty means the public cloud.
	AuthorityHost string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// ProbeTimeout bounds the IMDS probe of an auto identity whose manifest
	// entry does not set imdsProbeTimeout. Zero means one second.
	ProbeTimeout time.Duration
	// Logger gets one line per identity naming the source that won. Nil
	// means no logging.
	Logger *slog.Logger
}

// Credential is one manifest identity as an azcore.TokenCredential.
type Credential struct {
	name string
	opts Options

	mu     sync.Mutex
	cred   azcore.TokenCredential // resolved source; nil until the first token
	source string
	build  func(ctx context.Context) (azcore.TokenCredential, string, error)
}

var _ azcore.TokenCredential = (*Credential)(nil)

// New returns the credential for id. It checks the identity's
// configuration (files readable, required variables set) but sends nothing:
// the source is chosen on the first GetToken.
func New(id *manifest.Identity, opts Options) (*Credential, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = time.Second
	}
	c := &Credential{name: id.Name, opts: opts}
	var err error
	switch id.Kind {
	case manifest.KindAuto, "":
		c.build = c.auto(id)
	case manifest.KindManagedIdentity:
		c.build, err = fixed(SourceManagedIdentity(opts.Getenv), func() (azcore.TokenCredential, error) { return c.managedIdentity(id) })
	case manifest.KindServicePrincipal:
		var cred azcore.TokenCredential
		var src string
		cred, src, err = c.servicePrincipal(id)
		c.build = func(context.Context) (azcore.TokenCredential, string, error) { return cred, src, nil }
	case manifest.KindWorkloadIdentity:
		c.build, err = fixed("workload identity", func() (azcore.TokenCredential, error) { return c.workloadIdentity(id) })
	default:
		err = fmt.Errorf("unknown identity kind %q", id.Kind)
	}
	if err != nil {
		return nil, &ConfigError{Identity: id.Name, Err: err}
	}
	return c, nil
}

func fixed(source string, mk func() (azcore.TokenCredential, error)) (func(context.Context) (azcore.TokenCredential, string, error), error) {
	cred, err := mk()
	if err != nil {
		return nil, err
	}
	return func(context.Context) (azcore.TokenCredential, string, error) { return cred, source, nil }, nil
}

// Name returns the manifest name of the identity.
func (c *Credential) Name() string { return c.name }

// Source names the source that provided tokens ("managed identity (IMDS)",
// "service principal (client secret)", …), or "" before the first token.
func (c *Credential) Source() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.source
}

// GetToken returns a token for opts.Scopes, choosing the source on the
// first call. Concurrent first calls wait for one choice.
func (c *Credential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	cred, err := c.resolve(ctx, opts)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	tok, err := cred.GetToken(ctx, opts)
	if err != nil {
		return tok, &AuthError{Identity: c.name, Source: c.Source(), Err: err}
	}
	return tok, nil
}

func (c *Credential) resolve(ctx context.Context, opts policy.TokenRequestOptions) (azcore.TokenCredential, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cred != nil {
		return c.cred, nil
	}
	ctx = withScopes(ctx, opts)
	cred, source, err := c.build(ctx)
	if err != nil {
		return nil, err
	}
	c.cred, c.source = cred, source
	if c.opts.Logger != nil {
		c.opts.Logger.Info("credential source chosen", "identity", c.name, "source", source)
	}
	return cred, nil
}

func (c *Credential) clientOptions() azcore.ClientOptions {
	o := azcore.ClientOptions{Cloud: cloud.AzurePublic}
	if c.opts.AuthorityHost != "" {
		o.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: c.opts.AuthorityHost + "/"}
	}
	if c.opts.Client != nil {
		o.Transport = c.opts.Client
	}
	return o
}

// ConfigError is an identity whose configuration cannot work: a missing
// file, a variable not set, an unreadable certificate.
type ConfigError struct {
	Identity string
	Err      error
}

func (e *ConfigError) Error() string { return fmt.Sprintf("identity %q: %v", e.Identity, e.Err) }
func (e *ConfigError) Unwrap() error { return e.Err }

// AuthError is a failure to get a token from a configured source: Entra ID
// rejected the client, the managed identity is not assigned, the token
// endpoint could not be reached.
type AuthError struct {
	Identity string
	Source   string
	Err      error
}

func (e *AuthError) Error() string {
	if e.Source == "" {
		return fmt.Sprintf("identity %q: %v", e.Identity, e.Err)
	}
	return fmt.Sprintf("identity %q (%s): %v", e.Identity, e.Source, e.Err)
}
func (e *AuthError) Unwrap() error { return e.Err }

// NoSourceError is an auto identity for which no source worked.
type NoSourceError struct {
	Identity string
	Tried    []string // "source: why", in order
	// Denied is set when a source answered and refused, rather than none answering.
	Denied bool
}

func (e *NoSourceError) Error() string {
	msg := fmt.Sprintf("identity %q: no credential source worked:", e.Identity)
	for _, t := range e.Tried {
		msg += "\n  " + t
	}
	return msg
}

// IsUnavailable reports whether err means that no credential source could
// be reached at all (as opposed to one that refused).
func IsUnavailable(err error) bool {
	var ns *NoSourceError
	return errors.As(err, &ns) && !ns.Denied
}

type scopesKey struct{}

func withScopes(ctx context.Context, opts policy.TokenRequestOptions) context.Context {
	return context.WithValue(ctx, scopesKey{}, opts)
}

func scopesFrom(ctx context.Context) policy.TokenRequestOptions {
	o, _ := ctx.Value(scopesKey{}).(policy.TokenRequestOptions)
	return o
}
