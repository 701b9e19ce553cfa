package keyvault

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/kv-agent/agent/agent/credential"
)

// Secret is a fetched secret version.
type Secret struct {
	Ref         Ref
	Value       string
	Version     string
	ContentType string
	Tags        map[string]string
	Enabled     bool
	Created     time.Time
	Updated     time.Time
	Expires     *time.Time
	NotBefore   *time.Time
	Managed     bool   // backs a Key Vault certificate
	KeyID       string // the certificate's key, when Managed
}

// Credential is what a Fetcher needs of an identity.
type Credential interface {
	azcore.TokenCredential
	Name() string
}

var _ Credential = (*credential.Credential)(nil)

// Key names one fetched secret: a reference read with an identity. The
// same reference read with two identities is two fetches, and one may be
// refused while the other succeeds.
type Key struct {
	Ref      Ref
	Identity string
}

// Request asks for one reference with one identity.
type Request struct {
	Ref          Ref
	Credential   Credential
	AllowExpired bool
}

// Options configure a Fetcher.
type Options struct {
	// Client carries every Key Vault request; nil means a default client.
	Client *http.Client
	// Suffix is the cloud's Key Vault DNS suffix, e.g. vault.azure.net.
	Suffix string
	// Concurrency bounds the requests in flight to one vault (default 16).
	Concurrency int
	// Retry overrides azcore's retry policy; zero fields take the defaults
	// documented in the package.
	Retry policy.RetryOptions
	// Now is the clock for expiry checks; nil means time.Now.
	Now func() time.Time
	// Logger gets debug lines (reference, version, timing); never a value.
	Logger *slog.Logger
	// Observe, if set, is called after every HTTP attempt to Key Vault
	// (retries included) with the operation and the status; see
	// [ObserveFunc]. It must be safe for concurrent use.
	Observe ObserveFunc
}

// Fetcher fetches secrets. It keeps one azsecrets client per vault and
// identity, so later fetches reuse connections, challenges and tokens. It
// is safe for concurrent use.
type Fetcher struct {
	opts Options

	mu      sync.Mutex
	clients map[clientKey]*vaultClient
}

type clientKey struct {
	vault    string
	identity string
}

type vaultClient struct {
	client *azsecrets.Client
	cred   Credential
	// ready is closed once the first request to the vault has been
	// authorized (or has failed), so that only that request elicits the 401
	// challenge and the others go out with the token it got.
	ready     chan struct{}
	once      sync.Once
	readyOnce sync.Once
	sem       chan struct{}
}

func (vc *vaultClient) release() { vc.readyOnce.Do(func() { close(vc.ready) }) }

// authorizedSignal runs after the challenge policy: the first request it
// sees carrying a token means the challenge is answered and the token
// cached, so the vault's other requests may go.
type authorizedSignal struct{ vc *vaultClient }

func (a authorizedSignal) Do(req *policy.Request) (*http.Response, error) {
	if req.Raw().Header.Get("Authorization") != "" {
		a.vc.release()
	}
	return req.Next()
}

// New returns a Fetcher.
func New(opts Options) *Fetcher {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Suffix == "" {
		opts.Suffix = "vault.azure.net"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &opts.Retry
	if r.MaxRetries == 0 {
		r.MaxRetries = 10
	}
	if r.RetryDelay == 0 {
		r.RetryDelay = 400 * time.Millisecond
	}
	if r.MaxRetryDelay == 0 {
		r.MaxRetryDelay = 16 * time.Second
	}
	if r.TryTimeout == 0 {
		r.TryTimeout = 30 * time.Second
	}
	return &Fetcher{opts: opts, clients: map[clientKey]*vaultClient{}}
}

func (f *Fetcher) client(vault string, cred Credential) (*vaultClient, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := clientKey{vault, cred.Name()}
	if vc, ok := f.clients[k]; ok {
		return vc, nil
	}
	if err := checkHostURL(vault, f.opts.Suffix); err != nil {
		return nil, err
	}
	o := &azsecrets.ClientOptions{}
	o.Retry = f.opts.Retry
	vc := &vaultClient{cred: cred, ready: make(chan struct{}), sem: make(chan struct{}, f.opts.Concurrency)}
	host := strings.ToLower(strings.TrimSuffix(mustHost(vault), ":443"))
	o.PerCallPolicies = []policy.Policy{hostGuard{suffix: f.opts.Suffix, host: host}}
	o.PerRetryPolicies = []policy.Policy{authorizedSignal{vc}}
	if f.opts.Observe != nil {
		o.PerRetryPolicies = append(o.PerRetryPolicies, observer{f.opts.Observe})
	}
	if f.opts.Client != nil {
		o.Transport = f.opts.Client
	}
	c, err := azsecrets.NewClient(vault, cred, o)
	if err != nil {
		return nil, err
	}
	vc.client = c
	f.clients[k] = vc
	return vc, nil
}

// Fetch gets every request's secret. Identical requests are fetched once.
// It returns every secret it got, and an Errors listing each reference that
// failed (nil when none did).
func (f *Fetcher) Fetch(ctx context.Context, reqs []Request) (map[Key]*Secret, error) {
	unique := map[Key]Request{}
	var order []Key
	for _, r := range reqs {
		k := Key{r.Ref, r.Credential.Name()}
		if prev, ok := unique[k]; ok {
			prev.AllowExpired = prev.AllowExpired && r.AllowExpired
			unique[k] = prev
			continue
		}
		unique[k] = r
		order = append(order, k)
	}

	var (
		mu   sync.Mutex
		out  = make(map[Key]*Secret, len(unique))
		errs Errors
		wg   sync.WaitGroup
	)
	// Each vault client gets a pool of at most Concurrency workers rather
	// than a goroutine per reference: the workers' stacks grow once and
	// are reused, which is measurable in a one-shot render.
	type job struct {
		k   Key
		req Request
	}
	queues := map[*vaultClient][]job{}
	var vcs []*vaultClient
	warmed := map[Credential]bool{}
	for _, k := range order {
		req := unique[k]
		vc, err := f.client(req.Ref.VaultURL, req.Credential)
		if err != nil {
			errs = append(errs, classify(req.Ref, k.Identity, err))
			continue
		}
		if !warmed[req.Credential] {
			warmed[req.Credential] = true
			wg.Add(1)
			go func() { defer wg.Done(); f.warm(ctx, req.Credential) }()
		}
		if _, ok := queues[vc]; !ok {
			vcs = append(vcs, vc)
		}
		queues[vc] = append(queues[vc], job{k, req})
	}
	for _, vc := range vcs {
		jobs := queues[vc]
		next := make(chan job, len(jobs))
		for _, j := range jobs {
			next <- j
		}
		close(next)
		for range min(len(jobs), f.opts.Concurrency) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range next {
					s, err := f.fetchOne(ctx, vc, j.req)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else {
						out[j.k] = s
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Ref.String() < errs[j].Ref.String() })
		return out, errs
	}
	return out, nil
}

// warm gets the identity's Key Vault token while the first request of each
// vault is eliciting its challenge, so that the two overlap.
func (f *Fetcher) warm(ctx context.Context, cred Credential) {
	// EnableCAE as azsecrets asks for it: tokens with and without CAE are
	// cached apart, and a mismatch would cost a second token request.
	_, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://" + f.opts.Suffix + "/.default"}, EnableCAE: true})
	if err != nil {
		f.opts.Logger.Debug("token warm-up failed; the request will report it", "identity", cred.Name())
	}
}

func (f *Fetcher) fetchOne(ctx context.Context, vc *vaultClient, req Request) (*Secret, *Error) {
	first := false
	vc.once.Do(func() { first = true })
	if !first {
		select {
		case <-vc.ready:
		case <-ctx.Done():
			return nil, classify(req.Ref, vc.cred.Name(), ctx.Err())
		}
	}
	select {
	case vc.sem <- struct{}{}:
	case <-ctx.Done():
		if first {
			vc.release() // the others must not wait for a request never sent
		}
		return nil, classify(req.Ref, vc.cred.Name(), ctx.Err())
	}
	start := time.Now()
	resp, err := vc.client.GetSecret(ctx, req.Ref.Name, req.Ref.Version, nil)
	<-vc.sem
	if first {
		vc.release()
	}
	if err != nil {
		if ctx.Err() != nil {
			err = errors.Join(ctx.Err(), err)
		}
		return nil, classify(req.Ref, vc.cred.Name(), err)
	}
	s := toSecret(req.Ref, resp.Secret)
	f.opts.Logger.Debug("fetched secret", "ref", req.Ref.String(), "version", s.Version, "identity", vc.cred.Name(), "took", time.Since(start).Round(time.Microsecond))
	if e := f.checkValidity(req, vc.cred.Name(), s); e != nil {
		return nil, e
	}
	return s, nil
}

func (f *Fetcher) checkValidity(req Request, identity string, s *Secret) *Error {
	now := f.opts.Now()
	if s.Expires != nil && now.After(*s.Expires) && !req.AllowExpired {
		return &Error{Ref: req.Ref, Identity: identity, Kind: ErrExpired, Detail: "expired " + s.Expires.UTC().Format(time.RFC3339), Err: ErrExpired}
	}
	if s.NotBefore != nil && now.Before(*s.NotBefore) {
		return &Error{Ref: req.Ref, Identity: identity, Kind: ErrNotYetValid, Detail: "valid from " + s.NotBefore.UTC().Format(time.RFC3339), Err: ErrNotYetValid}
	}
	return nil
}

func toSecret(ref Ref, b azsecrets.Secret) *Secret {
	s := &Secret{Ref: ref, Enabled: true, Tags: map[string]string{}}
	if b.Value != nil {
		s.Value = *b.Value
	}
	if b.ID != nil {
		s.Version = b.ID.Version()
	}
	if b.ContentType != nil {
		s.ContentType = *b.ContentType
	}
	for k, v := range b.Tags {
		if v != nil {
			s.Tags[k] = *v
		}
	}
	if b.Managed != nil {
		s.Managed = *b.Managed
	}
	if b.KID != nil {
		s.KeyID = string(*b.KID)
	}
	if a := b.Attributes; a != nil {
		if a.Enabled != nil {
			s.Enabled = *a.Enabled
		}
		if a.Created != nil {
			s.Created = *a.Created
		}
		if a.Updated != nil {
			s.Updated = *a.Updated
		}
		s.Expires, s.NotBefore = a.Expires, a.NotBefore
	}
	return s
}

func checkHostURL(vault, suffix string) error {
	u, err := url.Parse(vault)
	if err != nil {
		return &hostError{host: vault, why: "is not a URL"}
	}
	return checkHost(u.Scheme, u.Host, suffix)
}

// parseInnerCode reads Key Vault's {"error":{"innererror":{"code":…}}}.
func parseInnerCode(resp *http.Response) string {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return ""
	}
	var body struct {
		Error struct {
			Inner *struct {
				Code string `json:"code"`
			} `json:"innererror"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &body) != nil || body.Error.Inner == nil {
		return ""
	}
	return body.Error.Inner.Code
}

// isCredentialError reports whether err came from getting a token.
func isCredentialError(err error) bool {
	var ae *credential.AuthError
	var ns *credential.NoSourceError
	var ce *credential.ConfigError
	var afe *azidentity.AuthenticationFailedError
	return errors.As(err, &ae) || errors.As(err, &ns) || errors.As(err, &ce) || errors.As(err, &afe)
}

// mustHost returns the host of a vault URL already checked by checkHostURL.
func mustHost(vault string) string {
	u, err := url.Parse(vault)
	if err != nil {
		return ""
	}
	return u.Host
}
