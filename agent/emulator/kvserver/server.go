package kvserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Values of the informational headers every answer carries.
const (
	region         = "emulator"
	serviceVersion = "1.9.0.0"
	networkInfo    = "conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;"
)

// Server is the Key Vault secrets data plane. It is an http.Handler and is
// safe for concurrent use.
type Server struct {
	cfg     Config
	vaults0 []Vault   // deep copy of the configured vaults, for Reset
	base    time.Time // dates of configured versions count back from here

	mu     sync.RWMutex
	vaults map[string]*vaultState // lower-cased name → state

	rngMu sync.Mutex
	rng   *mrand.Rand
}

var _ http.Handler = (*Server)(nil)

// New validates cfg and returns a Server holding its vaults. Each configured
// version gets a stable 32-hex id derived from (vault, secret, index), and
// created/updated dates (n-i) hours before cfg.Now() for version i of n.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, vaults0: cloneVaults(cfg.Vaults), base: cfg.Now()}
	s.cfg.Vaults = nil
	s.rng = cfg.Rand
	if s.rng == nil {
		seed := uint64(s.base.UnixNano())
		s.rng = mrand.New(mrand.NewPCG(seed, seed>>32|1))
	}
	s.vaults = buildVaults(s.vaults0, s.base)
	return s, nil
}

// Reset restores the configured state: versions, attributes and request
// counters. Requests in flight finish against the old state.
func (s *Server) Reset() {
	fresh := buildVaults(s.vaults0, s.base)
	s.mu.Lock()
	s.vaults = fresh
	s.mu.Unlock()
}

// call is one request being answered.
type call struct {
	w          http.ResponseWriter
	r          *http.Request
	kind       string
	vault      *vaultState
	vaultName  string
	host       string // the vault host as ids and nextLinks name it
	suffix     string
	apiVersion string
	caller     Caller
}

// ServeHTTP answers one Key Vault request. The vault is the first label of
// r.Host (port stripped) and the rest must be a configured suffix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r, kind: "error"}
	setCommonHeaders(w.Header(), r.Header)

	host, suffix, vault := s.lookupVault(r)
	if vault == nil {
		s.fail(c, errVaultNotFound(host))
		return
	}
	c.vault, c.vaultName, c.host, c.suffix = vault, vault.name, host, suffix

	c.apiVersion = queryValue(r.URL.RawQuery, "api-version")
	if c.apiVersion == "" {
		s.fail(c, errBadParameter("The 'api-version' query parameter is required."))
		return
	}
	rt := parseRoute(r.Method, r.URL.Path)
	if rt.kind != "" {
		c.kind = rt.kind
	}
	if !s.authenticate(c) {
		return
	}
	if !vault.limiter.allow(vault.limit.Requests, s.cfg.Now()) {
		s.throttle(c)
		return
	}
	if s.injectFault(c) {
		return
	}
	if rt.err != nil {
		if rt.allow != "" {
			w.Header()["Allow"] = []string{rt.allow}
		}
		s.fail(c, *rt.err)
		return
	}
	if !s.authorize(c, rt) {
		return
	}
	switch rt.kind {
	case "get":
		s.getSecret(c, rt.name, rt.version)
	case "list":
		s.listSecrets(c)
	case "versions":
		s.listVersions(c, rt.name)
	case "set":
		s.setSecret(c, rt.name)
	case "update":
		s.updateSecret(c, rt.name, rt.version)
	}
}

// lookupVault finds the vault named by the request's host.
func (s *Server) lookupVault(r *http.Request) (host, suffix string, v *vaultState) {
	raw := r.Host
	if raw == "" {
		raw = r.URL.Host
	}
	host = strings.ToLower(raw)
	name := host
	if h, port, err := net.SplitHostPort(host); err == nil {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return raw, "", nil
		}
		name = h
		if port == "443" {
			host = h
		}
	}
	label, rest, ok := strings.Cut(name, ".")
	if !ok {
		return raw, "", nil
	}
	for _, sfx := range s.cfg.Suffixes {
		if strings.EqualFold(rest, sfx) {
			suffix = strings.ToLower(sfx)
			break
		}
	}
	if suffix == "" {
		return raw, "", nil
	}
	s.mu.RLock()
	v = s.vaults[label]
	s.mu.RUnlock()
	if v == nil {
		return raw, "", nil
	}
	return host, suffix, v
}

// setCommonHeaders sets the headers every Key Vault answer carries.
func setCommonHeaders(h, req http.Header) {
	h["Cache-Control"] = []string{"no-cache"}
	h["Pragma"] = []string{"no-cache"}
	h["Expires"] = []string{"-1"}
	h["Content-Type"] = []string{"application/json; charset=utf-8"}
	h["Strict-Transport-Security"] = []string{"max-age=31536000;includeSubDomains"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	h["X-Ms-Keyvault-Region"] = []string{region}
	h["X-Ms-Keyvault-Service-Version"] = []string{serviceVersion}
	h["X-Ms-Keyvault-Network-Info"] = []string{networkInfo}
	h["X-Ms-Request-Id"] = []string{newUUID()}
	if id := req["X-Ms-Client-Request-Id"]; len(id) > 0 {
		h["X-Ms-Client-Request-Id"] = id[:1]
	}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// queryValue returns the first value of key in a raw query, unescaped; ""
// when absent or malformed.
func queryValue(raw, key string) string {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(k, "%+") {
			// Clients may re-encode a nextLink: "$skiptoken" → "%24skiptoken".
			if u, err := url.QueryUnescape(k); err == nil {
				k = u
			}
		}
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			u, err := url.QueryUnescape(v)
			if err != nil {
				return ""
			}
			return u
		}
		return v
	}
	return ""
}

// reply writes a JSON answer assembled from parts.
func (s *Server) reply(c *call, status int, parts ...[]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	c.w.Header()["Content-Length"] = []string{strconv.Itoa(n)}
	c.w.WriteHeader(status)
	for _, p := range parts {
		_, _ = c.w.Write(p) // the client went away; nothing to do
	}
	s.finish(c, status)
}

// fail writes an error answer.
func (s *Server) fail(c *call, e apiError) {
	s.reply(c, e.status, e.body())
}

// finish reports an answered request to Observe and the Logger.
func (s *Server) finish(c *call, status int) {
	if s.cfg.Observe != nil {
		s.cfg.Observe(c.kind, c.vaultName, c.caller.Name, status)
	}
	if l := s.cfg.Logger; l != nil && l.Enabled(context.Background(), slog.LevelDebug) {
		l.LogAttrs(context.Background(), slog.LevelDebug, "key vault request",
			slog.String("method", c.r.Method),
			slog.String("host", c.r.Host),
			slog.String("path", c.r.URL.Path),
			slog.String("kind", c.kind),
			slog.String("vault", c.vaultName),
			slog.String("caller", c.caller.Name),
			slog.Int("status", status))
	}
}

// cloneVaults deep-copies the configured vaults so later changes by the
// caller do not leak into Reset.
func cloneVaults(in []Vault) []Vault {
	out := make([]Vault, len(in))
	for i, v := range in {
		v.Secrets = cloneSecrets(v.Secrets)
		v.Access = append([]Access(nil), v.Access...)
		for j := range v.Access {
			v.Access[j].Permissions = append([]string(nil), v.Access[j].Permissions...)
		}
		v.Faults.Kinds = append([]string(nil), v.Faults.Kinds...)
		out[i] = v
	}
	return out
}

func cloneSecrets(in map[string]Secret) map[string]Secret {
	out := make(map[string]Secret, len(in))
	for name, sec := range in {
		vs := make([]Version, len(sec.Versions))
		for i, v := range sec.Versions {
			v.Tags = cloneTags(v.Tags)
			if v.Enabled != nil {
				e := *v.Enabled
				v.Enabled = &e
			}
			if v.Expires != nil {
				t := *v.Expires
				v.Expires = &t
			}
			if v.NotBefore != nil {
				t := *v.NotBefore
				v.NotBefore = &t
			}
			vs[i] = v
		}
		out[name] = Secret{Versions: vs}
	}
	return out
}
