package emulator

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// entraError is Entra ID's OAuth error body (AZURE.md §2.3).
type entraError struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	ErrorURI      string `json:"error_uri"`
}

// aadFailure is a failed Entra request: status, OAuth error and AADSTS code.
type aadFailure struct {
	status int
	err    string
	code   int
	msg    string // without the "AADSTSnnn: " prefix; never holds a secret
}

func fail(status int, oauthErr string, code int, format string, args ...any) *aadFailure {
	return &aadFailure{status: status, err: oauthErr, code: code, msg: fmt.Sprintf(format, args...)}
}

// entra routes requests for the login hosts: instance discovery, OIDC
// metadata and the v2 token endpoint.
func (e *Emulator) entra(x *exchange, r *http.Request) {
	x.header().Set("Cache-Control", "no-store, no-cache")
	x.header().Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	x.header().Set("X-Content-Type-Options", "nosniff")
	x.header().Set("x-ms-request-id", newUUID())
	x.header().Set("x-ms-ests-server", "agent-emulator")
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 3 && parts[1] == "discovery" && parts[2] == "instance":
		x.kind = KindEntraDiscovery
		e.discovery(x, r)
	case len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
		x.kind = KindEntraOIDC
		if f := e.checkTenant(parts[0]); f != nil {
			e.entraFail(x, r, f)
			return
		}
		e.openIDConfiguration(x, r, parts[0])
	case len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token":
		x.kind = KindEntraToken
		if f := e.checkTenant(parts[0]); f != nil {
			e.entraFail(x, r, f)
			return
		}
		e.tokenEndpoint(x, r, parts[0])
	default:
		e.entraFail(x, r, fail(http.StatusNotFound, "invalid_request", 900561,
			"The endpoint %s is not served by the agent emulator (it serves instance discovery, "+
				"OpenID configuration and the v2.0 token endpoint).", r.URL.Path))
	}
}

func (e *Emulator) checkTenant(tenant string) *aadFailure {
	if strings.EqualFold(tenant, e.seed.Tenant) {
		return nil
	}
	return fail(http.StatusBadRequest, "invalid_request", 90002, "Tenant '%s' not found. Check to make sure you have "+
		"the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, "+
		"this may happen if there are no active subscriptions for the tenant.", tenant)
}

// entraFail writes f in Entra's error shape.
func (e *Emulator) entraFail(x *exchange, r *http.Request, f *aadFailure) {
	now := e.now().UTC().Format("2006-01-02 15:04:05Z")
	trace := newUUID()
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = newUUID()
	}
	x.json(f.status, entraError{
		Error: f.err,
		Description: fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			f.code, f.msg, trace, corr, now),
		Codes:         []int{f.code},
		Timestamp:     now,
		TraceID:       trace,
		CorrelationID: corr,
		ErrorURI:      fmt.Sprintf("https://%s/error?code=%d", r.Host, f.code),
	})
	e.log.Debug("entra error", "code", f.code, "status", f.status)
}

// discovery answers GET /common/discovery/instance as Entra does.
func (e *Emulator) discovery(x *exchange, r *http.Request) {
	tenant := "common"
	if ae, err := url.Parse(r.URL.Query().Get("authorization_endpoint")); err == nil {
		if seg := strings.Split(strings.Trim(ae.Path, "/"), "/"); seg[0] != "" {
			tenant = seg[0]
		}
	}
	host := strings.ToLower(r.Host)
	x.header().Set("Cache-Control", "max-age=86400, private")
	x.json(http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": fmt.Sprintf("https://%s/%s/v2.0/.well-known/openid-configuration", host, tenant),
		"api-version":               "1.1",
		"metadata": []map[string]any{
			cloudAliases("login.microsoftonline.com", "login.windows.net",
				"login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"),
			cloudAliases("login.partner.microsoftonline.cn", "login.partner.microsoftonline.cn",
				"login.partner.microsoftonline.cn", "login.chinacloudapi.cn"),
			cloudAliases("login.microsoftonline.de", "login.microsoftonline.de", "login.microsoftonline.de"),
			cloudAliases("login.microsoftonline.us", "login.microsoftonline.us",
				"login.microsoftonline.us", "login.usgovcloudapi.net"),
			cloudAliases("login-us.microsoftonline.com", "login-us.microsoftonline.com", "login-us.microsoftonline.com"),
		},
	})
}

func cloudAliases(network, cache string, aliases ...string) map[string]any {
	return map[string]any{"preferred_network": network, "preferred_cache": cache, "aliases": aliases}
}

// openIDConfiguration answers the tenant's OIDC metadata, with every
// endpoint on the host the request came to.
func (e *Emulator) openIDConfiguration(x *exchange, r *http.Request, tenant string) {
	base := "https://" + strings.ToLower(r.Host) + "/" + tenant
	x.header().Set("Cache-Control", "max-age=86400, private")
	x.json(http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"tenant_region_scope":                   "WW",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

// tokenEndpoint answers POST /{tenant}/oauth2/v2.0/token for the client
// credentials grant with a client secret, a certificate assertion or a
// federated (workload identity) assertion.
func (e *Emulator) tokenEndpoint(x *exchange, r *http.Request, tenant string) {
	if r.Method != http.MethodPost {
		e.entraFail(x, r, fail(http.StatusMethodNotAllowed, "invalid_request", 900561,
			"The endpoint only accepts POST requests. Received a %s request.", r.Method))
		return
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		e.entraFail(x, r, fail(http.StatusBadRequest, "invalid_request", 900144, "The request body is not a valid form."))
		return
	}
	form := r.PostForm
	for _, p := range []string{"grant_type", "client_id"} {
		if form.Get(p) == "" {
			e.entraFail(x, r, missing(p))
			return
		}
	}
	if g := form.Get("grant_type"); g != "client_credentials" {
		e.entraFail(x, r, fail(http.StatusBadRequest, "unsupported_grant_type", 70003,
			"The app requested an unsupported grant type '%s'. The agent emulator serves client_credentials only.", g))
		return
	}
	clientID := strings.ToLower(form.Get("client_id"))
	p := e.dirc.spByClientID[clientID]
	if p == nil {
		e.entraFail(x, r, fail(http.StatusBadRequest, "unauthorized_client", 700016,
			"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application "+
				"has not been installed by the administrator of the tenant or consented to by any user in the tenant. "+
				"You may have sent your authentication request to the wrong tenant.", form.Get("client_id"), tenant))
		return
	}
	x.identity = p.name
	resource, f := scopeResource(form.Get("scope"))
	if f == nil {
		f = e.authenticateClient(r, p, form, tenant)
	}
	if f != nil {
		e.entraFail(x, r, f)
		return
	}
	lifetime := e.lifetime(defaultEntraLifetime)
	token, _, _, err := e.tokens.accessToken(p, resource, lifetime)
	if err != nil {
		e.entraFail(x, r, fail(http.StatusInternalServerError, "server_error", 90000, "The token could not be issued."))
		return
	}
	secs := int64(lifetime / time.Second)
	x.json(http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   token,
	})
}

func missing(param string) *aadFailure {
	return fail(http.StatusBadRequest, "invalid_request", 900144,
		"The request body must contain the following parameter: '%s'.", param)
}

// scopeResource finds the one "<resource>/.default" scope among the
// scopes MSAL sends (it adds openid, offline_access and profile).
func scopeResource(scope string) (string, *aadFailure) {
	if scope == "" {
		return "", missing("scope")
	}
	var found []string
	for _, s := range strings.Fields(scope) {
		switch s {
		case "openid", "offline_access", "profile", "email":
			continue
		}
		found = append(found, s)
	}
	if len(found) != 1 || !strings.HasSuffix(found[0], "/.default") || found[0] == "/.default" {
		return "", fail(http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope %s is not valid. "+
			"Client credential flows must have a scope value with /.default suffixed to the resource identifier "+
			"(application ID URI).", scope)
	}
	return strings.TrimSuffix(found[0], "/.default"), nil
}

// authenticateClient checks the client secret or assertion of p.
func (e *Emulator) authenticateClient(r *http.Request, p *principal, form url.Values, tenant string) *aadFailure {
	sp := p.sp
	if secret := form.Get("client_secret"); secret != "" {
		if sp.Secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(sp.Secret)) != 1 {
			return fail(http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure "+
				"the secret being sent in the request is the client secret value, not the client secret ID, for a "+
				"secret added to app '%s'.", sp.ClientID)
		}
		return nil
	}
	assertion := form.Get("client_assertion")
	if assertion == "" {
		return fail(http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	if t := form.Get("client_assertion_type"); t != jwtBearer {
		return fail(http.StatusBadRequest, "invalid_request", 700023, "Client assertion type '%s' is not supported; "+
			"use %s.", t, jwtBearer)
	}
	tokenURL := "https://" + strings.ToLower(r.Host) + "/" + tenant + "/oauth2/v2.0/token"
	return e.checkAssertion(sp, assertion, tokenURL)
}
