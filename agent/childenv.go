package agent

import (
	"strings"

	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/agent/supervise"
)

// credentialVars are the variables that hold the agent's own credentials,
// and the settings that only make sense with them (the endpoints that take
// an IDENTITY_HEADER or MSI_SECRET). agent run removes them from the
// child's environment unless --keep-credentials. AZURE_TENANT_ID and
// AZURE_CLIENT_ID name an identity without proving it and are kept.
func credentialVars() []string {
	return []string{
		"AZURE_CLIENT_SECRET",
		"AZURE_CLIENT_CERTIFICATE_PATH",
		"AZURE_CLIENT_CERTIFICATE_PASSWORD",
		"AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
		"AZURE_FEDERATED_TOKEN_FILE",
		"IDENTITY_ENDPOINT",
		"IDENTITY_HEADER",
		"IDENTITY_SERVER_THUMBPRINT",
		"IMDS_ENDPOINT",
		"MSI_ENDPOINT",
		"MSI_SECRET",
	}
}

// pristineVars are the inherited variables that --pristine keeps.
func pristineVars() []string { return []string{"PATH", "HOME", "USER", "TZ", "LANG"} }

// envList is an environment: unique names in order, each with a value.
type envList struct {
	names  []string
	values map[string]string
}

// newEnvList reads KEY=VALUE entries. A name given twice keeps its first
// position and its last value, as a shell does.
func newEnvList(environ []string) *envList {
	e := &envList{values: make(map[string]string, len(environ))}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			e.set(k, v)
		}
	}
	return e
}

func (e *envList) set(k, v string) {
	if _, ok := e.values[k]; !ok {
		e.names = append(e.names, k)
	}
	e.values[k] = v
}

func (e *envList) get(k string) (string, bool) {
	v, ok := e.values[k]
	return v, ok
}

func (e *envList) del(k string) {
	if _, ok := e.values[k]; !ok {
		return
	}
	delete(e.values, k)
	for i, n := range e.names {
		if n == k {
			e.names = append(e.names[:i], e.names[i+1:]...)
			break
		}
	}
}

// environ returns the KEY=VALUE entries in order.
func (e *envList) environ() []string {
	out := make([]string, 0, len(e.names))
	for _, n := range e.names {
		out = append(out, n+"="+e.values[n])
	}
	return out
}

// childEnvOptions decide what the child inherits.
type childEnvOptions struct {
	keepCredentials bool
	pristine        bool
	user            *supervise.UserSpec // nil: the agent's own user
}

// baseChildEnv returns the child's environment before references are
// resolved and the manifest's env entries are added: the agent's
// environment (or, with --pristine, only PATH, HOME, USER, TZ and LANG),
// without the agent's credentials unless kept, with HOME and USER (and
// LOGNAME, when set) of the --user.
func baseChildEnv(environ []string, m *manifest.Manifest, o childEnvOptions) *envList {
	inherited := newEnvList(environ)
	env := inherited
	if o.pristine {
		env = newEnvList(nil)
		keep := pristineVars()
		if o.keepCredentials {
			keep = append(append(keep, credentialVars()...), secretEnvVars(m)...)
		}
		for _, k := range keep {
			if v, ok := inherited.get(k); ok {
				env.set(k, v)
			}
		}
	} else if !o.keepCredentials {
		for _, k := range credentialVars() {
			env.del(k)
		}
		for _, k := range secretEnvVars(m) {
			env.del(k)
		}
	}
	if u := o.user; u != nil {
		env.set("HOME", u.Home)
		env.set("USER", u.Name)
		if _, ok := env.get("LOGNAME"); ok {
			env.set("LOGNAME", u.Name)
		}
	}
	return env
}

// secretEnvVars returns the variables that the manifest's service
// principals read their client secret from (clientSecretEnv).
func secretEnvVars(m *manifest.Manifest) []string {
	if m == nil {
		return nil
	}
	var names []string
	for _, id := range m.Identities {
		if id.ClientSecretEnv != "" {
			names = append(names, id.ClientSecretEnv)
		}
	}
	return names
}
