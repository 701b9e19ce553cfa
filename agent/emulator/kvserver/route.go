package kvserver

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/kv-agent/agent/agent/kvname"
)

// route is what a request asks for.
type route struct {
	kind    string // "get", "list", "versions", "set", "update"; "" when err is set
	name    string
	version string // "" for the current version
	err     *apiError
	allow   string // Allow header for 405
}

// parseRoute maps a method and path to an operation. Paths:
//
//	/secrets                        GET list
//	/secrets/{name}[/]              GET current, PUT set, PATCH update current
//	/secrets/{name}/versions        GET list versions
//	/secrets/{name}/{version}       GET, PATCH
func parseRoute(method, path string) route {
	rest, ok := strings.CutPrefix(path, "/secrets")
	if !ok || (rest != "" && rest[0] != '/') {
		return notFound(path)
	}
	rest = strings.TrimPrefix(rest, "/")
	if rest == "" {
		return withMethod(method, path, map[string]string{http.MethodGet: "list"}, route{})
	}
	segs := strings.Split(rest, "/")
	if len(segs) > 2 {
		return notFound(path)
	}
	name := segs[0]
	second := ""
	if len(segs) == 2 {
		second = segs[1]
	}
	if !kvname.Secret(name) {
		e := errBadParameter("The secret name '%s' is invalid: it must match ^[0-9a-zA-Z-]+$ and be 1 to 127 characters long.", truncate(name, 127))
		return route{err: &e}
	}
	switch {
	case second == "":
		return withMethod(method, path, map[string]string{
			http.MethodGet: "get", http.MethodPut: "set", http.MethodPatch: "update",
		}, route{name: name})
	case second == "versions":
		return withMethod(method, path, map[string]string{http.MethodGet: "versions"}, route{name: name})
	default:
		return withMethod(method, path, map[string]string{
			http.MethodGet: "get", http.MethodPatch: "update",
		}, route{name: name, version: second})
	}
}

// withMethod picks the operation for method among ops, or a 405.
func withMethod(method, path string, ops map[string]string, rt route) route {
	if kind, ok := ops[method]; ok {
		rt.kind = kind
		return rt
	}
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch} {
		if _, ok := ops[m]; ok {
			allow = append(allow, m)
		}
	}
	e := apiError{
		status:  http.StatusMethodNotAllowed,
		code:    "MethodNotAllowed",
		message: fmt.Sprintf("The emulator does not support method %s on %s.", truncate(method, 16), truncate(path, 256)),
	}
	return route{err: &e, allow: strings.Join(allow, ", ")}
}

func notFound(path string) route {
	e := apiError{
		status:  http.StatusNotFound,
		code:    "NotFound",
		message: fmt.Sprintf("The emulator serves no resource at %s.", truncate(path, 256)),
	}
	return route{err: &e}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
