package emulator

import (
	"crypto/subtle"
	"net/http"
	"strconv"
)

// appServicePath is the App Service identity endpoint on the listener
// (IDENTITY_ENDPOINT).
const appServicePath = "/msi/token"

// appServiceToken is the 2019-08-01 response (AZURE.md §1.2).
type appServiceToken struct {
	AccessToken string `json:"access_token"`
	ExpiresOn   string `json:"expires_on"`
	NotBefore   string `json:"not_before"`
	Resource    string `json:"resource"`
	TokenType   string `json:"token_type"`
	ClientID    string `json:"client_id"`
}

// appService answers the App Service managed-identity protocol. Real App
// Service error bodies are undocumented; the emulator uses IMDS's shape.
func (e *Emulator) appService(x *exchange, r *http.Request) {
	x.header().Set("x-ms-request-id", newUUID())
	if r.Method != http.MethodGet {
		x.json(http.StatusMethodNotAllowed, imdsError{"invalid_request", "The request method must be GET"})
		return
	}
	got := r.Header.Get("X-IDENTITY-HEADER")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(e.idHeader)) != 1 {
		x.json(http.StatusUnauthorized, imdsError{"unauthorized", "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER"})
		return
	}
	q := r.URL.Query()
	if v := q.Get("api-version"); v != "2019-08-01" {
		x.json(http.StatusBadRequest, imdsError{"invalid_request", "Unsupported api-version (this endpoint serves 2019-08-01)"})
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		x.json(http.StatusBadRequest, imdsError{"invalid_request", "Required query variable 'resource' is missing"})
		return
	}
	objectID := q.Get("object_id")
	if objectID == "" {
		objectID = q.Get("principal_id")
	}
	p, ok := e.dirc.managedIdentity(q.Get("client_id"), objectID, q.Get("mi_res_id"))
	if !ok {
		x.json(http.StatusBadRequest, imdsError{"invalid_request", "Identity not found"})
		return
	}
	x.identity = p.name
	token, nbf, exp, err := e.tokens.accessToken(p, resource, e.lifetime(defaultMILifetime))
	if err != nil {
		x.json(http.StatusInternalServerError, imdsError{"unknown", "Failed to issue a token"})
		return
	}
	x.json(http.StatusOK, appServiceToken{
		AccessToken: token,
		ExpiresOn:   strconv.FormatInt(exp.Unix(), 10),
		NotBefore:   strconv.FormatInt(nbf.Unix(), 10),
		Resource:    resource,
		TokenType:   "Bearer",
		ClientID:    p.clientID,
	})
}
