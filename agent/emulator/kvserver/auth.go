package kvserver

import (
	"fmt"
	"net/http"
	"strings"
)

// authorityHosts are the Entra ID hosts named in each cloud's challenge.
// Clients ignore the host (they use their credential's authority) and read
// only the tenant from it.
var authorityHosts = map[string]string{
	"vault.azure.cn":          "login.chinacloudapi.cn",
	"vault.usgovcloudapi.net": "login.microsoftonline.us",
}

// challenge is the WWW-Authenticate value for a vault suffix.
func (s *Server) challenge(suffix string) string {
	host, ok := authorityHosts[suffix]
	if !ok {
		host = "login.microsoftonline.com"
	}
	return `Bearer authorization="https://` + host + "/" + s.cfg.Tenant + `", resource="https://` + suffix + `"`
}

// authenticate checks the bearer token. On failure it answers 401 with the
// challenge and returns false.
func (s *Server) authenticate(c *call) bool {
	authz := c.r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(authz, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		c.kind = "challenge"
		s.unauthorized(c, errMissingToken)
		return false
	}
	caller, aud, err := s.cfg.Authenticate(token)
	if err != nil {
		// The token never goes back out, even if the callback quoted it.
		msg := strings.ReplaceAll(err.Error(), token, "[token]")
		s.unauthorized(c, apiError{
			status:  http.StatusUnauthorized,
			code:    "Unauthorized",
			message: "AKV10013: Invalid token: " + truncate(msg, 512) + ".",
		})
		return false
	}
	want := "https://" + c.suffix
	if aud != want && aud != want+"/" {
		s.unauthorized(c, apiError{
			status:  http.StatusUnauthorized,
			code:    "Unauthorized",
			message: fmt.Sprintf("AKV10022: Invalid audience. Expected %s, found: %s.", want, truncate(aud, 256)),
		})
		return false
	}
	c.caller = caller
	return true
}

func (s *Server) unauthorized(c *call, e apiError) {
	c.w.Header()["Www-Authenticate"] = []string{s.challenge(c.suffix)}
	s.fail(c, e)
}

// permissions and RBAC data actions by operation kind.
var (
	kindPermission = map[string]string{
		"get": "get", "list": "list", "versions": "list", "set": "set", "update": "set",
	}
	kindAction = map[string]string{
		"get":      "Microsoft.KeyVault/vaults/secrets/getSecret/action",
		"list":     "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
		"versions": "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
		"set":      "Microsoft.KeyVault/vaults/secrets/setSecret/action",
		"update":   "Microsoft.KeyVault/vaults/secrets/update/action",
	}
)

// authorize checks the caller's access rule for the operation. On failure
// it answers 403 ForbiddenByRbac and returns false.
func (s *Server) authorize(c *call, rt route) bool {
	if c.vault.access[c.caller.Name][kindPermission[rt.kind]] {
		return true
	}
	resource := "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/emulator/providers/microsoft.keyvault/vaults/" +
		strings.ToLower(c.vault.name)
	if rt.name != "" {
		resource += "/secrets/" + rt.name
	}
	s.fail(c, forbiddenByRbac(c.caller, s.cfg.Tenant, kindAction[rt.kind], c.vault.name, resource))
	return false
}
