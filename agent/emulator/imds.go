package emulator

import (
	"net/http"
	"strconv"
	"time"
)

// imdsTokenPath is the IMDS managed-identity token endpoint.
const imdsTokenPath = "/metadata/identity/oauth2/token"

// imdsServer is the Server header real IMDS sends.
const imdsServer = "IMDS/150.870.65.1475"

// imdsError is IMDS's error body.
type imdsError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// imdsResponse is IMDS's token response: every value is a string.
type imdsResponse struct {
	AccessToken  string `json:"access_token"`
	ClientID     string `json:"client_id"`
	ExpiresIn    string `json:"expires_in"`
	ExpiresOn    string `json:"expires_on"`
	ExtExpiresIn string `json:"ext_expires_in"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	TokenType    string `json:"token_type"`
}

// imds answers http://169.254.169.254 (AZURE.md §1.1).
func (e *Emulator) imds(x *exchange, r *http.Request) {
	if e.seed.IMDS.Absent {
		e.log.Debug("imds absent: resetting connection")
		x.reset()
		return
	}
	x.header().Set("Server", imdsServer)
	x.header().Set("x-ms-request-id", newUUID())
	if e.imdsUnavailable() {
		x.json(http.StatusGone, imdsError{"service_unavailable", "IMDS is going through updates; retry with exponential backoff"})
		return
	}
	if r.Header.Get("Metadata") != "true" {
		x.json(http.StatusBadRequest, imdsError{"bad_request_102", "Required metadata header not specified"})
		return
	}
	if r.URL.Path != imdsTokenPath {
		x.json(http.StatusNotFound, imdsError{"not_found", "The requested path is not served by the emulator's IMDS: only " + imdsTokenPath})
		return
	}
	if r.Method != http.MethodGet {
		x.json(http.StatusMethodNotAllowed, imdsError{"invalid_request", "The request method must be GET"})
		return
	}
	q := r.URL.Query()
	if q.Get("api-version") == "" {
		x.json(http.StatusBadRequest, imdsError{"invalid_request", "Required query variable 'api-version' is missing"})
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		x.json(http.StatusBadRequest, imdsError{"invalid_request", "Required query variable 'resource' is missing"})
		return
	}
	resID := q.Get("msi_res_id")
	if resID == "" {
		resID = q.Get("mi_res_id")
	}
	p, ok := e.dirc.managedIdentity(q.Get("client_id"), q.Get("object_id"), resID)
	if !ok {
		x.json(http.StatusBadRequest, imdsError{"invalid_request", "Identity not found"})
		return
	}
	x.identity = p.name
	tok, left, err := e.imdsToken(p, resource)
	if err != nil {
		x.json(http.StatusInternalServerError, imdsError{"unknown", "Failed to retrieve token from the Active directory"})
		return
	}
	secs := strconv.FormatInt(int64(left/time.Second), 10)
	x.json(http.StatusOK, imdsResponse{
		AccessToken:  tok.token,
		ClientID:     p.clientID,
		ExpiresIn:    secs,
		ExpiresOn:    strconv.FormatInt(tok.exp.Unix(), 10),
		ExtExpiresIn: secs,
		NotBefore:    strconv.FormatInt(tok.nbf.Unix(), 10),
		Resource:     resource,
		TokenType:    "Bearer",
	})
}

type imdsCacheKey struct{ identity, resource string }

type imdsCached struct {
	token    string
	nbf, exp time.Time
}

// imdsToken returns p's token for resource. IMDS caches the tokens it gets
// for the machine's identities and serves them until they near expiry; the
// emulator serves a cached token while more than half of its lifetime is
// left, so a second process on the machine gets the token the first one
// got, as on Azure. left is the token's remaining lifetime (expires_in).
func (e *Emulator) imdsToken(p *principal, resource string) (tok imdsCached, left time.Duration, err error) {
	key := imdsCacheKey{p.name, resource}
	lifetime := e.lifetime(defaultMILifetime)
	e.imdsMu.Lock()
	defer e.imdsMu.Unlock()
	c, ok := e.imdsCache[key]
	if remaining := c.exp.Sub(e.now().Truncate(time.Second)); ok && remaining > lifetime/2 {
		return c, remaining, nil
	}
	token, nbf, exp, err := e.tokens.accessToken(p, resource, lifetime)
	if err != nil {
		return imdsCached{}, 0, err
	}
	c = imdsCached{token, nbf, exp}
	if e.imdsCache == nil {
		e.imdsCache = map[imdsCacheKey]imdsCached{}
	}
	e.imdsCache[key] = c
	return c, lifetime, nil
}

// imdsUnavailable reports whether IMDS is inside its "going through
// updates" window after Start or Reset.
func (e *Emulator) imdsUnavailable() bool {
	d := e.seed.IMDS.UnavailableFor
	if d <= 0 {
		return false
	}
	e.mu.Lock()
	since := e.imdsSince
	e.mu.Unlock()
	return e.now().Sub(since) < d
}

// lifetime is the token lifetime: the seed's, else def.
func (e *Emulator) lifetime(def time.Duration) time.Duration {
	if e.seed.TokenLifetime > 0 {
		return e.seed.TokenLifetime
	}
	return def
}
