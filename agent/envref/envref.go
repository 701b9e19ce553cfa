package envref

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/kv-agent/agent/agent/internal/errlist"
	"github.com/kv-agent/agent/agent/kvname"
)

// prefix starts every reference; it is matched case-insensitively.
const prefix = "@microsoft.keyvault"

// Ref is one parsed reference. Exactly one of Host (SecretUri form) and
// VaultName (VaultName form) is set.
type Ref struct {
	Var       string // the environment variable holding the reference
	Host      string // lower-case vault host from SecretUri, e.g. "contoso.vault.azure.net"
	VaultName string // lower-case vault name from VaultName
	Name      string // the Key Vault secret name
	Version   string // lower-case version, or "" for the current version
}

// Error is a reference that cannot be used. Its message names the variable
// and never contains the variable's value.
type Error struct {
	Var string
	Msg string
}

func (e *Error) Error() string {
	return fmt.Sprintf("environment variable %s: %s", e.Var, e.Msg)
}

// Errors is every bad reference found by [Scan], sorted by variable name:
// one line each, and errors.As sees each one.
type Errors = errlist.List[*Error]

// IsReference reports whether value is meant as a Key Vault reference: it
// starts, after leading spaces, with "@Microsoft.KeyVault" in any case.
// Such a value is either parsed or refused, never passed through.
func IsReference(value string) bool {
	v := strings.TrimLeft(value, " \t")
	return len(v) >= len(prefix) && strings.EqualFold(v[:len(prefix)], prefix)
}

// Parse parses the reference value held by the variable name. The error,
// if any, is an *Error.
func Parse(name, value string) (Ref, error) {
	r, msg := parse(value)
	if msg != "" {
		return Ref{}, &Error{Var: name, Msg: msg}
	}
	r.Var = name
	return r, nil
}

// Scan parses every reference among environ's KEY=VALUE entries, in
// variable name order. Entries that are not references are ignored. Bad
// references come back together as Errors.
func Scan(environ []string) ([]Ref, error) {
	var refs []Ref
	var errs Errors
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !IsReference(value) {
			continue
		}
		r, err := Parse(name, value)
		if err != nil {
			var e *Error
			errors.As(err, &e)
			errs = append(errs, e)
			continue
		}
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Var < refs[j].Var })
	sort.Slice(errs, func(i, j int) bool { return errs[i].Var < errs[j].Var })
	if len(errs) > 0 {
		return refs, errs
	}
	return refs, nil
}

// VaultURL returns the https URL of the reference's vault in the cloud
// whose Key Vault DNS suffix is suffix (e.g. "vault.azure.net"). A
// SecretUri host outside that suffix is an *Error naming the variable.
func (r Ref) VaultURL(suffix string) (string, error) {
	suffix = strings.ToLower(strings.TrimPrefix(suffix, "."))
	if r.VaultName != "" {
		return "https://" + r.VaultName + "." + suffix, nil
	}
	label, ok := strings.CutSuffix(r.Host, "."+suffix)
	if !ok || strings.Contains(label, ".") {
		return "", &Error{Var: r.Var, Msg: fmt.Sprintf("host %q is not a Key Vault host of this cloud (expected NAME.%s)", r.Host, suffix)}
	}
	return "https://" + r.Host, nil
}

// parse returns the reference or a problem description.
func parse(value string) (Ref, string) {
	v := strings.TrimSpace(value)
	body := v[len(prefix):]
	if !strings.HasPrefix(body, "(") || !strings.HasSuffix(body, ")") {
		return Ref{}, `malformed Key Vault reference: expected @Microsoft.KeyVault(SecretUri=…) or @Microsoft.KeyVault(VaultName=…;SecretName=…)`
	}
	body = body[1 : len(body)-1]
	if strings.ContainsAny(body, "()") {
		return Ref{}, "malformed Key Vault reference: unbalanced parentheses"
	}
	keys := map[string]string{}
	for _, part := range strings.Split(body, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // "a=b;" is accepted, as App Service does
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return Ref{}, "malformed Key Vault reference: a part has no \"=\" (use KEY=VALUE separated by \";\")"
		}
		key, known := canonicalKey(strings.TrimSpace(k))
		if !known {
			return Ref{}, fmt.Sprintf("unknown key %q in Key Vault reference (use SecretUri, or VaultName, SecretName and SecretVersion)", clip(strings.TrimSpace(k)))
		}
		if _, dup := keys[key]; dup {
			return Ref{}, fmt.Sprintf("key %s is given twice in Key Vault reference", key)
		}
		val = strings.TrimSpace(val)
		if val == "" {
			return Ref{}, fmt.Sprintf("key %s is empty in Key Vault reference", key)
		}
		keys[key] = val
	}
	if uri, ok := keys["SecretUri"]; ok {
		if len(keys) > 1 {
			return Ref{}, "Key Vault reference mixes SecretUri with VaultName, SecretName or SecretVersion"
		}
		return parseURI(uri)
	}
	return parseNamed(keys)
}

func canonicalKey(k string) (string, bool) {
	for _, known := range []string{"SecretUri", "VaultName", "SecretName", "SecretVersion"} {
		if strings.EqualFold(k, known) {
			return known, true
		}
	}
	return "", false
}

// parseURI parses https://HOST/secrets/NAME[/VERSION][/].
func parseURI(raw string) (Ref, string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Ref{}, "SecretUri is not a URL such as https://NAME.vault.azure.net/secrets/SECRET"
	}
	if u.Scheme != "https" {
		return Ref{}, "SecretUri must use https"
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return Ref{}, "SecretUri must not have credentials, a query or a fragment"
	}
	if p := u.Port(); p != "" && p != "443" {
		return Ref{}, "SecretUri must not name a port"
	}
	host := u.Hostname()
	label, _, _ := strings.Cut(host, ".")
	if !strings.Contains(host, ".") || !kvname.VaultAnyCase(label) || !isASCII(host) {
		return Ref{}, "SecretUri host is not a Key Vault host such as NAME.vault.azure.net"
	}
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/"), "/")
	if len(parts) < 2 || len(parts) > 3 || !strings.EqualFold(parts[0], "secrets") {
		return Ref{}, "SecretUri path must be /secrets/NAME or /secrets/NAME/VERSION"
	}
	r := Ref{Host: strings.ToLower(host), Name: parts[1]}
	if len(parts) == 3 {
		r.Version = parts[2]
	}
	if msg := checkNameVersion(r.Name, r.Version); msg != "" {
		return Ref{}, msg
	}
	r.Version = strings.ToLower(r.Version)
	return r, ""
}

// parseNamed parses the VaultName=…;SecretName=…[;SecretVersion=…] form.
func parseNamed(keys map[string]string) (Ref, string) {
	vault, okV := keys["VaultName"]
	name, okN := keys["SecretName"]
	switch {
	case !okV && !okN:
		return Ref{}, "Key Vault reference needs SecretUri, or VaultName and SecretName"
	case !okV:
		return Ref{}, "Key Vault reference needs VaultName with SecretName"
	case !okN:
		return Ref{}, "Key Vault reference needs SecretName with VaultName"
	}
	if !kvname.VaultAnyCase(vault) {
		return Ref{}, "VaultName is not a vault name (3-24 letters, digits and single hyphens, starting with a letter)"
	}
	vault = strings.ToLower(vault)
	r := Ref{VaultName: vault, Name: name, Version: keys["SecretVersion"]}
	if msg := checkNameVersion(r.Name, r.Version); msg != "" {
		return Ref{}, msg
	}
	r.Version = strings.ToLower(r.Version)
	return r, ""
}

func checkNameVersion(name, version string) string {
	if !kvname.Secret(name) {
		return "secret name in Key Vault reference must be 1-127 letters, digits and hyphens"
	}
	if version != "" && !kvname.Version(strings.ToLower(version)) {
		return "secret version in Key Vault reference must be 32 hexadecimal digits"
	}
	return ""
}

// clip shortens what an error quotes from a reference, so that a value
// pasted into the wrong place is not repeated in full.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// isASCII reports whether s holds only ASCII: Key Vault hosts do, and
// lower-casing anything else could turn it into a different ASCII host.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
