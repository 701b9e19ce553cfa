package kvserver

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is a Key Vault error answer: {"error":{"code","message","innererror"}}.
type apiError struct {
	status  int
	code    string
	message string
	inner   string // innererror code, omitted when empty
}

// body encodes e in Key Vault's error shape.
func (e apiError) body() []byte {
	type inner struct {
		Code string `json:"code"`
	}
	type errBody struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError *inner `json:"innererror,omitempty"`
	}
	b := errBody{Code: e.code, Message: e.message}
	if e.inner != "" {
		b.InnerError = &inner{Code: e.inner}
	}
	out, err := json.Marshal(struct {
		Error errBody `json:"error"`
	}{b})
	if err != nil {
		panic("kvserver: encode error body: " + err.Error()) // unreachable: only strings
	}
	return out
}

func errBadParameter(format string, args ...any) apiError {
	return apiError{status: http.StatusBadRequest, code: "BadParameter", message: fmt.Sprintf(format, args...)}
}

func errSecretNotFound(name string) apiError {
	return apiError{
		status:  http.StatusNotFound,
		code:    "SecretNotFound",
		message: fmt.Sprintf("A secret with (name/id) %s was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", name),
	}
}

func errSecretDisabled(op string) apiError {
	return apiError{
		status:  http.StatusForbidden,
		code:    "Forbidden",
		message: fmt.Sprintf("Operation %s is not allowed on a disabled secret.", op),
		inner:   "SecretDisabled",
	}
}

func errVaultNotFound(host string) apiError {
	// Emulator choice: real clients fail at DNS for an unknown vault.
	return apiError{
		status:  http.StatusNotFound,
		code:    "VaultNotFound",
		message: fmt.Sprintf("The emulator serves no vault for host %q.", host),
	}
}

func errThrottled() apiError {
	return apiError{
		status:  http.StatusTooManyRequests,
		code:    "Throttled",
		message: "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached",
	}
}

// errMissingToken is the body of the 401 challenge.
var errMissingToken = apiError{
	status:  http.StatusUnauthorized,
	code:    "Unauthorized",
	message: "AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token.",
}

// forbiddenByRbac is the 403 Key Vault sends when no role assignment grants
// the action.
func forbiddenByRbac(c Caller, tenant, action, vault, resource string) apiError {
	tid := c.TenantID
	if tid == "" {
		tid = tenant
	}
	msg := "Caller is not authorized to perform action on resource.\r\n" +
		"If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n" +
		fmt.Sprintf("Caller: appid=%s;oid=%s;iss=https://sts.windows.net/%s/\r\n", c.ClientID, c.ObjectID, tid) +
		fmt.Sprintf("Action: '%s'\r\n", action) +
		fmt.Sprintf("Resource: '%s'\r\n", resource) +
		"Assignment: (not found)\r\n" +
		"DenyAssignmentId: null\r\n" +
		"DecisionReason: 'DeniedWithNoValidRBAC' \r\n" +
		fmt.Sprintf("Vault: %s;location=%s\r\n", vault, region)
	return apiError{status: http.StatusForbidden, code: "Forbidden", message: msg, inner: "ForbiddenByRbac"}
}
