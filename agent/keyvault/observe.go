package keyvault

import (
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Operations reported to an [ObserveFunc].
const (
	OpGet      = "get"      // GET /secrets/{name}[/{version}]
	OpList     = "list"     // GET /secrets (a page)
	OpVersions = "versions" // GET /secrets/{name}/versions (a page)
	OpOther    = "other"    // anything else
)

// ObserveFunc is told about one HTTP attempt to Key Vault: the operation
// (one of the Op* constants) and the HTTP status, 0 when no response came
// back (network error, timeout).
type ObserveFunc func(op string, status int)

// observer is the pipeline policy behind Options.Observe. It sees every
// attempt the retry policy makes.
type observer struct{ fn ObserveFunc }

func (o observer) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	o.fn(operation(req.Raw()), status)
	return resp, err
}

// operation names the Key Vault operation of r from its method and path.
func operation(r *http.Request) string {
	if r.Method != http.MethodGet {
		return OpOther
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "secrets":
		return OpList
	case len(parts) == 3 && parts[0] == "secrets" && parts[2] == "versions":
		return OpVersions
	case (len(parts) == 2 || len(parts) == 3) && parts[0] == "secrets":
		return OpGet
	}
	return OpOther
}
