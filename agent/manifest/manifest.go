package manifest

import (
	"fmt"
	"os"
	"time"
)

// Identity kinds, the values of an identity's "kind" key.
const (
	KindAuto             = "auto"
	KindManagedIdentity  = "managedIdentity"
	KindServicePrincipal = "servicePrincipal"
	KindWorkloadIdentity = "workloadIdentity"
)

// DefaultIdentity is the name of the identity used by vaults that name none.
// It always exists; when the manifest does not declare it, it has kind auto.
const DefaultIdentity = "default"

// Defaults applied when the manifest leaves a value out.
const (
	DefaultFileMode       = os.FileMode(0o600)
	DefaultDirMode        = os.FileMode(0o700)
	DefaultCommandTimeout = 30 * time.Second
	DefaultWatchInterval  = 5 * time.Minute
	MinWatchInterval      = time.Second
	DefaultWatchJitter    = 0.1
	DefaultWaitMin        = 2 * time.Second
	DefaultWaitMax        = 30 * time.Second
	DefaultKillTimeout    = 25 * time.Second
	DefaultSignal         = "SIGHUP"
	DefaultWarnBefore     = 30 * 24 * time.Hour
)

// Watch.OnChange values.
const (
	OnChangeRestart = "restart"
	OnChangeSignal  = "signal"
	OnChangeNone    = "none"
)

// Manifest is a decoded and validated agent.yaml. Every cross reference in it
// (vault → identity, secret → vault and identity, file → secrets) has been
// checked, and every default has been filled in. A Manifest is not modified
// by this package after Load returns and is safe for concurrent reads.
type Manifest struct {
	Path       string // as given to Load or Parse; used in error messages
	Dir        string // absolute directory of the manifest; relative paths resolve against it
	Version    int
	Cloud      Cloud
	Identities map[string]*Identity // always contains "default"
	Vaults     map[string]*Vault
	Secrets    map[string]*Secret
	Files      []*File
	Env        []*EnvVar // in manifest order
	Watch      Watch
}

// Cloud is the Azure cloud whose Key Vault and Entra ID hosts the agent talks to.
type Cloud struct {
	Name           string // "AzurePublic", "AzureChina", "AzureUSGovernment" or "Custom"
	KeyVaultSuffix string // e.g. "vault.azure.net"
	AuthorityHost  string // e.g. "https://login.microsoftonline.com"
}

// Identity is a way to obtain Azure credentials. Which fields are set
// depends on Kind; the others are empty. Paths are absolute.
type Identity struct {
	Name                    string
	Kind                    string        // one of the Kind constants
	ClientID                string        // managedIdentity, servicePrincipal, workloadIdentity, auto
	ObjectID                string        // managedIdentity
	ResourceID              string        // managedIdentity
	TenantID                string        // servicePrincipal, workloadIdentity
	ClientSecretFile        string        // servicePrincipal
	ClientSecretEnv         string        // servicePrincipal: name of the environment variable
	CertificateFile         string        // servicePrincipal
	CertificatePasswordFile string        // servicePrincipal, with CertificateFile
	TokenFile               string        // workloadIdentity
	IMDSProbeTimeout        time.Duration // auto; zero when not set (the agent's setting applies)
	Pos                     Pos
}

// Vault is a Key Vault the manifest reads from.
type Vault struct {
	Name     string
	URL      string // normalised to "https://host", lower case, no trailing slash
	Identity string // name of a defined identity
	Pos      Pos
}

// Secret is a reference to one Key Vault secret, named by its manifest key.
type Secret struct {
	Name         string // the manifest key, used by templates
	Vault        string // name of a defined vault
	SecretName   string // the Key Vault secret name
	Version      string // "" for the current version
	Identity     string // resolved: the secret's own override or its vault's identity
	AllowExpired bool
	// WarnBefore is how long before a certificate held by the secret
	// expires the agent starts warning (logs, agent check).
	WarnBefore time.Duration
	Pos        Pos
}

// File is one output file. Exactly one of Template (inline or from
// TemplateFile), Format or Cert is the source of its content.
type File struct {
	Path          string   // absolute, cleaned
	Template      string   // inline template text, or the contents of TemplateFile
	TemplateFile  string   // absolute path, or "" for an inline template
	Format        string   // a built-in format name, or ""
	FormatSecrets []string // with Format: the secrets the format covers; empty means all
	Cert          string   // name of a defined secret holding a certificate, or ""
	Part          string   // with Cert: key, leaf, chain, fullchain, root or pfx
	Password      string   // with Part "pfx": name of a defined secret holding the password
	Mode          os.FileMode
	DirMode       os.FileMode
	Owner         string    // user name or numeric id; "" keeps the agent's
	Group         string    // group name or numeric id; "" keeps the agent's
	OnChange      *OnChange // nil when nothing runs on change
	Pos           Pos       // of the list item
	TemplatePos   Pos       // of the template, templateFile, format or cert value
}

// OnChange is what happens after a file's content changed: run Command (with
// Timeout) or send Signal to the supervised child. Exactly one is set.
type OnChange struct {
	Command []string
	Timeout time.Duration
	Signal  string // e.g. "SIGHUP"
}

// EnvVar is one environment variable for the child process.
type EnvVar struct {
	Name     string
	Template string
	Pos      Pos // of the template value
}

// Watch holds the settings of watch mode and run --watch.
type Watch struct {
	Interval    time.Duration
	Jitter      float64 // fraction of Interval, 0..1
	WaitMin     time.Duration
	WaitMax     time.Duration
	OnChange    string // OnChangeRestart, OnChangeSignal or OnChangeNone
	Signal      string // set when OnChange is OnChangeSignal
	KillTimeout time.Duration
}

// Errorf returns an Error about this manifest at p, so that callers (for
// example the code that parses templates) report problems in the same
// format as Load. Use a zero Pos when the position is unknown.
func (m *Manifest) Errorf(p Pos, field, format string, args ...any) *Error {
	return &Error{File: m.Path, Pos: p, Field: field, Msg: fmt.Sprintf(format, args...)}
}
