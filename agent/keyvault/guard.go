package keyvault

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// hostGuard refuses any request that is not https to the client's own
// vault host, before a token is attached to it: a nextLink naming another
// host (even another vault, which the same token would open) is refused.
type hostGuard struct {
	suffix string
	host   string // the vault's host, lower case, without :443; "" = any vault
}

func (g hostGuard) Do(req *policy.Request) (*http.Response, error) {
	u := req.Raw().URL
	if err := checkHost(u.Scheme, u.Host, g.suffix); err != nil {
		return nil, err
	}
	if h := strings.ToLower(strings.TrimSuffix(u.Host, ":443")); g.host != "" && h != g.host {
		return nil, &hostError{host: u.Host, why: "is not the vault this client reads (" + g.host + ")"}
	}
	return req.Next()
}

// checkHost accepts https://NAME.<suffix> with no port or port 443.
func checkHost(scheme, hostport, suffix string) error {
	host, port, hasPort := strings.Cut(hostport, ":")
	switch {
	case scheme != "https":
		return &hostError{host: hostport, why: "is not https"}
	case hasPort && port != "443":
		return &hostError{host: hostport, why: "has a port other than 443"}
	case !strings.HasSuffix(strings.ToLower(host), "."+suffix) || strings.Count(strings.TrimSuffix(strings.ToLower(host), "."+suffix), ".") > 0:
		return &hostError{host: hostport, why: "is not a Key Vault host (*." + suffix + ")"}
	}
	return nil
}

type hostError struct{ host, why string }

func (e *hostError) Error() string {
	return fmt.Sprintf("refusing to send a token to %s: it %s", e.host, e.why)
}
