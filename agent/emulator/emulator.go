package emulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kv-agent/agent/agent/emulator/kvserver"
)

// Options configures Start.
type Options struct {
	// Seed is the starting state; nil means an empty seed (default tenant,
	// no identities, no vaults). Start does not modify it.
	Seed *Seed
	// Listen is the loopback address to listen on; default "127.0.0.1:0".
	Listen string
	// Latency is added to every request (IMDS, App Service, Entra ID, Key
	// Vault); zero means the seed's latency.
	Latency time.Duration
	// Dir receives ca.pem; a temporary directory (removed by Close) when "".
	Dir string
	// Logger receives the emulator's logs; nil discards them. It never
	// receives a secret value, a token, a client secret or an assertion.
	Logger *slog.Logger
	// Now is the clock for tokens and vault timestamps; default time.Now.
	Now func() time.Time
}

// Emulator is a running local Azure. Its methods are safe for concurrent
// use.
type Emulator struct {
	seed      *Seed
	log       *slog.Logger
	now       func() time.Time
	latency   time.Duration
	addr      string // host:port of the listener
	url       string
	dir       string
	ownDir    bool
	caFile    string
	idHeader  string // the App Service IDENTITY_HEADER value
	ca        *authority
	dirc      *directory
	tokens    *issuer
	kv        *kvserver.Server
	stats     *counter
	ln        net.Listener
	tunnels   *connQueue
	front     *http.Server
	inner     *http.Server
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	mu        sync.Mutex
	imdsSince time.Time // start of the IMDS "unavailable" window

	// imdsCache holds the managed-identity tokens IMDS has issued, by
	// identity and resource: IMDS caches tokens and hands the same one to
	// every caller on the machine (see imdsToken). imdsMu is held while a
	// token is minted, so that callers arriving together get one token.
	imdsMu    sync.Mutex
	imdsCache map[imdsCacheKey]imdsCached
}

// Start starts an emulator listening on opts.Listen and returns once it
// accepts connections. ctx bounds start-up only; stop it with Close.
func Start(ctx context.Context, opts Options) (*Emulator, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start emulator: %w", err)
	}
	seed := opts.Seed.clone()
	seed.fillIDs()
	if err := seed.validate(); err != nil {
		return nil, err
	}
	e := &Emulator{seed: seed, log: opts.Logger, now: opts.Now, latency: opts.Latency, stats: newCounter()}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.latency == 0 {
		e.latency = seed.Latency
	}
	var err error
	if e.ca, err = newAuthority(); err != nil {
		return nil, err
	}
	e.dirc = newDirectory(seed)
	if e.tokens, err = newIssuer(seed.Tenant, e.now, e.dirc); err != nil {
		return nil, err
	}
	if e.kv, err = kvserver.New(e.kvConfig()); err != nil {
		return nil, fmt.Errorf("start key vault: %w", err)
	}
	e.idHeader = randomHex(16)
	e.imdsSince = e.now()
	if err := e.prepareDir(opts.Dir); err != nil {
		return nil, err
	}
	if err := e.listen(ctx, opts.Listen); err != nil {
		e.removeDir()
		return nil, err
	}
	e.log.Debug("emulator listening", "url", e.url, "tenant", seed.Tenant, "vaults", len(seed.Vaults))
	return e, nil
}

func (e *Emulator) kvConfig() kvserver.Config {
	vaults := make([]kvserver.Vault, len(e.seed.Vaults))
	for i, v := range e.seed.Vaults {
		v.Name = strings.ToLower(v.Name)
		vaults[i] = v
	}
	return kvserver.Config{
		Tenant:       e.seed.Tenant,
		Vaults:       vaults,
		Suffixes:     append([]string(nil), vaultSuffixes...),
		Authenticate: e.tokens.verify,
		Now:          e.now,
		Observe:      e.stats.add,
		Logger:       e.log,
	}
}

func (e *Emulator) prepareDir(dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "agent-emulator-")
		if err != nil {
			return fmt.Errorf("create emulator directory: %w", err)
		}
		dir, e.ownDir = d, true
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create emulator directory: %w", err)
	}
	e.dir = dir
	e.caFile = filepath.Join(dir, "ca.pem")
	if err := writeFileAtomic(e.caFile, e.ca.pem, 0o644); err != nil {
		e.removeDir()
		return fmt.Errorf("write ca certificate: %w", err)
	}
	return nil
}

func (e *Emulator) removeDir() {
	if e.ownDir {
		_ = os.RemoveAll(e.dir)
	}
}

func (e *Emulator) listen(ctx context.Context, addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen on %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("listen on %q: the emulator listens on loopback addresses only", addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %q: %w", addr, err)
	}
	e.ln = ln
	e.addr = ln.Addr().String()
	e.url = "http://" + e.addr
	errLog := slog.NewLogLogger(e.log.Handler(), slog.LevelDebug)
	e.tunnels = newConnQueue(ln.Addr())
	e.front = &http.Server{Handler: http.HandlerFunc(e.serveFront), ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	e.inner = &http.Server{Handler: http.HandlerFunc(e.serveAzure), ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	e.wg.Add(2)
	go func() { defer e.wg.Done(); _ = e.front.Serve(ln) }()
	go func() { defer e.wg.Done(); _ = e.inner.Serve(e.tunnels) }()
	return nil
}

// Close stops the listener, closes every connection and removes the
// temporary directory. It is safe to call more than once.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		err1 := e.front.Close()
		err2 := e.inner.Close()
		e.wg.Wait()
		e.removeDir()
		if err := errors.Join(err1, err2); err != nil {
			e.closeErr = fmt.Errorf("close emulator: %w", err)
		}
	})
	return e.closeErr
}

// URL is the emulator's base URL (http://127.0.0.1:PORT): the proxy, and
// the admin endpoints under /_emulator/.
func (e *Emulator) URL() string { return e.url }

// CAFile is the path of the CA certificate (PEM) clients must trust.
func (e *Emulator) CAFile() string { return e.caFile }

// Tenant is the seed's tenant ID.
func (e *Emulator) Tenant() string { return e.seed.Tenant }

// Seed returns the completed seed in use (IDs filled in). Do not modify it.
func (e *Emulator) Seed() *Seed { return e.seed }

// Env returns the variables that make an unmodified client use the
// emulator, as KEY=VALUE: HTTPS_PROXY, HTTP_PROXY, NO_PROXY, SSL_CERT_FILE,
// REQUESTS_CA_BUNDLE and AGENT_EMULATOR_URL, plus what curl reads instead
// (lowercase https_proxy, http_proxy and no_proxy with the same values,
// and CURL_CA_BUNDLE).
func (e *Emulator) Env() []string {
	const noProxy = "localhost,127.0.0.1,::1"
	return []string{
		"HTTPS_PROXY=" + e.url,
		"HTTP_PROXY=" + e.url,
		"NO_PROXY=" + noProxy,
		"SSL_CERT_FILE=" + e.caFile,
		// Go clients also read every certificate in SSL_CERT_DIR (by
		// default the machine's CA directory, milliseconds of parsing):
		// point it at the directory of ca.pem so they trust only the
		// emulator, as nothing else is reachable through it anyway.
		"SSL_CERT_DIR=" + filepath.Dir(e.caFile),
		"REQUESTS_CA_BUNDLE=" + e.caFile,
		"AGENT_EMULATOR_URL=" + e.url,
		"https_proxy=" + e.url,
		"http_proxy=" + e.url,
		"no_proxy=" + noProxy,
		"CURL_CA_BUNDLE=" + e.caFile,
	}
}

// AppServiceEnv returns IDENTITY_ENDPOINT and IDENTITY_HEADER, which make
// clients use the App Service managed-identity source instead of IMDS.
func (e *Emulator) AppServiceEnv() []string {
	return []string{
		"IDENTITY_ENDPOINT=" + e.url + appServicePath,
		"IDENTITY_HEADER=" + e.idHeader,
	}
}

// CAPEM returns the CA certificate in PEM form.
func (e *Emulator) CAPEM() []byte { return append([]byte(nil), e.ca.pem...) }

// CAPool returns a pool holding only the emulator's CA.
func (e *Emulator) CAPool() *x509.CertPool { return e.ca.pool.Clone() }

// Transport returns a new transport that uses the emulator as its proxy
// for every request and trusts its CA. It prefers HTTP/2, like azcore's
// default transport, and keeps idle connections for HTTP/1.1 clients.
func (e *Emulator) Transport() *http.Transport {
	proxy, _ := url.Parse(e.url)
	return &http.Transport{
		Proxy:               http.ProxyURL(proxy),
		TLSClientConfig:     &tls.Config{RootCAs: e.CAPool(), MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
}

// Client returns an *http.Client using Transport: what the agent uses
// in-process (azcore.ClientOptions.Transport accepts it).
func (e *Emulator) Client() *http.Client {
	return &http.Client{Transport: e.Transport(), Timeout: time.Minute}
}

// Stats returns a snapshot of the request counters.
func (e *Emulator) Stats() Stats { return e.stats.snapshot() }

// Reset restores the seeded vault contents, clears the counters, empties
// IMDS's token cache and restarts the IMDS unavailability window. Tokens
// already issued stay valid.
func (e *Emulator) Reset() {
	e.kv.Reset()
	e.stats.reset()
	e.mu.Lock()
	e.imdsSince = e.now()
	e.mu.Unlock()
	e.imdsMu.Lock()
	e.imdsCache = nil
	e.imdsMu.Unlock()
	e.log.Info("emulator reset")
}

// FederatedToken returns a workload-identity token (the content of the
// file AZURE_FEDERATED_TOKEN_FILE names) for the service principal spName,
// signed by the emulator's issuer key and valid for an hour.
func (e *Emulator) FederatedToken(spName string) (string, error) {
	p := e.dirc.spByName[spName]
	if p == nil {
		return "", fmt.Errorf("mint federated token: no service principal named %q", spName)
	}
	t, err := e.tokens.federatedToken(p.sp)
	if err != nil {
		return "", fmt.Errorf("mint federated token: %w", err)
	}
	return t, nil
}

func sortStrings(s []string) { sort.Strings(s) }
