package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadFullManifest(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "full", "agent.yaml")
	m, err := Load(path, LoadOptions{})
	require.NoError(t, err)

	dir, err := filepath.Abs(filepath.Join("testdata", "full"))
	require.NoError(t, err)
	const (
		tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		spID   = "0b4c3a91-7a55-4e6e-9f43-5a1c2d3e4f50"
	)
	want := &Manifest{
		Path:    path,
		Dir:     dir,
		Version: 1,
		Cloud:   Cloud{Name: "AzurePublic", KeyVaultSuffix: "vault.azure.net", AuthorityHost: "https://login.microsoftonline.com"},
		Identities: map[string]*Identity{
			"default": {Name: "default", Kind: KindAuto, ClientID: "11111111-1111-1111-1111-111111111111",
				IMDSProbeTimeout: 2 * time.Second, Pos: Pos{4, 3}},
			"billing": {Name: "billing", Kind: KindManagedIdentity, ClientID: "2d6c2c1e-8d4f-4c53-9d0e-3b1f6a0c9e11", Pos: Pos{5, 3}},
			"byResource": {Name: "byResource", Kind: KindManagedIdentity,
				ResourceID: "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app", Pos: Pos{6, 3}},
			"legacy": {Name: "legacy", Kind: KindServicePrincipal, TenantID: tenant, ClientID: spID,
				ClientSecretFile: "/etc/agent/sp-secret", Pos: Pos{7, 3}},
			"certSP": {Name: "certSP", Kind: KindServicePrincipal, TenantID: tenant, ClientID: spID,
				CertificateFile: filepath.Join(dir, "creds", "sp.pfx"), CertificatePasswordFile: filepath.Join(dir, "creds", "sp.pass"), Pos: Pos{12, 3}},
			"envSP": {Name: "envSP", Kind: KindServicePrincipal, TenantID: tenant, ClientID: spID, ClientSecretEnv: "SP_SECRET", Pos: Pos{18, 3}},
			"k8s":   {Name: "k8s", Kind: KindWorkloadIdentity, TokenFile: "/var/run/secrets/azure/tokens/azure-identity-token", Pos: Pos{19, 3}},
		},
		Vaults: map[string]*Vault{
			"main":    {Name: "main", URL: "https://contoso.vault.azure.net", Identity: "default", Pos: Pos{21, 3}},
			"billing": {Name: "billing", URL: "https://contoso-billing.vault.azure.net", Identity: "billing", Pos: Pos{22, 3}},
		},
		Secrets: map[string]*Secret{
			"db_password": {Name: "db_password", WarnBefore: DefaultWarnBefore, Vault: "main", SecretName: "db-password", Identity: "default", Pos: Pos{24, 3}},
			"db_pinned": {Name: "db_pinned", WarnBefore: DefaultWarnBefore, Vault: "main", SecretName: "db-password", Version: "0123456789abcdef0123456789abcdef",
				Identity: "default", Pos: Pos{25, 3}},
			"stripe": {Name: "stripe", WarnBefore: DefaultWarnBefore, Vault: "billing", SecretName: "stripe-key", Identity: "billing", Pos: Pos{26, 3}},
			"tls":    {Name: "tls", Vault: "main", SecretName: "web-tls", Identity: "legacy", AllowExpired: true, WarnBefore: 14 * 24 * time.Hour, Pos: Pos{27, 3}},
			"tls_pass": {Name: "tls_pass", WarnBefore: DefaultWarnBefore, Vault: "main", SecretName: "web-tls-pass", Version: "fedcba9876543210fedcba9876543210",
				Identity: "default", Pos: Pos{28, 3}},
		},
		Files: []*File{
			{Path: "/etc/app/config.json", Template: `{"db":{"password":{{ secret "db_password" | toJSON }}}}`,
				Mode: 0o640, DirMode: 0o750, Owner: "app", Group: "1000",
				OnChange: &OnChange{Command: []string{"systemctl", "reload", "app"}, Timeout: 10 * time.Second},
				Pos:      Pos{30, 5}, TemplatePos: Pos{31, 15}},
			{Path: filepath.Join(dir, "tls", "key.pem"), Cert: "tls", Part: "key", Mode: 0o600, DirMode: 0o700,
				OnChange: &OnChange{Signal: "SIGHUP"}, Pos: Pos{37, 5}, TemplatePos: Pos{38, 11}},
			{Path: "/etc/app/app.env", Format: "dotenv", FormatSecrets: []string{"db_password", "stripe"},
				Mode: 0o600, DirMode: 0o700, Pos: Pos{41, 5}, TemplatePos: Pos{42, 13}},
			{Path: filepath.Join(dir, "out", "bundle.pfx"), Cert: "tls", Part: "pfx", Password: "tls_pass",
				Mode: 0o600, DirMode: 0o700, Pos: Pos{44, 5}, TemplatePos: Pos{45, 11}},
			{Path: "/etc/app/app.conf", Template: "password={{ secret \"db_password\" }}\n",
				TemplateFile: filepath.Join(dir, "templates", "app.conf.tmpl"),
				Mode:         0o600, DirMode: 0o700, Pos: Pos{48, 5}, TemplatePos: Pos{49, 19}},
		},
		Env: []*EnvVar{
			{Name: "ZED", Template: `{{ secret "stripe" }}`, Pos: Pos{51, 8}},
			{Name: "DB_PASSWORD", Template: `{{ secret "db_password" }}`, Pos: Pos{52, 16}},
			{Name: "PORT", Template: "8080", Pos: Pos{53, 9}},
		},
		Watch: Watch{Interval: 2 * time.Minute, Jitter: 0.25, WaitMin: time.Second, WaitMax: 10 * time.Second,
			OnChange: OnChangeSignal, Signal: "SIGUSR1", KillTimeout: 10 * time.Second},
	}
	require.Equal(t, want, m)
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	m, err := Parse("agent.yaml", []byte("version: 1\n"), LoadOptions{})
	require.NoError(t, err)
	require.Equal(t, Cloud{Name: "AzurePublic", KeyVaultSuffix: "vault.azure.net", AuthorityHost: "https://login.microsoftonline.com"}, m.Cloud)
	require.Equal(t, map[string]*Identity{"default": {Name: "default", Kind: KindAuto}}, m.Identities)
	require.Equal(t, Watch{Interval: 5 * time.Minute, Jitter: 0.1, WaitMin: 2 * time.Second, WaitMax: 30 * time.Second,
		OnChange: OnChangeRestart, KillTimeout: 25 * time.Second}, m.Watch)
	require.Empty(t, m.Vaults)
	require.Empty(t, m.Secrets)
	require.Empty(t, m.Files)
	require.Empty(t, m.Env)
}

func TestParseValidVariants(t *testing.T) {
	t.Parallel()
	const vault = "vaults: {main: {url: https://contoso.vault.azure.net}}\nsecrets: {s: main/x}\n"
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, m *Manifest)
	}{
		{"china cloud", "version: 1\ncloud: AzureChina\nvaults: {cn: {url: https://kvcn.vault.azure.cn}}\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, Cloud{Name: "AzureChina", KeyVaultSuffix: "vault.azure.cn", AuthorityHost: "https://login.chinacloudapi.cn"}, m.Cloud)
			require.Equal(t, "https://kvcn.vault.azure.cn", m.Vaults["cn"].URL)
		}},
		{"us government cloud", "version: 1\ncloud: AzureUSGovernment\nvaults: {gov: {url: 'https://kvgov.vault.usgovcloudapi.net:443/'}}\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, Cloud{Name: "AzureUSGovernment", KeyVaultSuffix: "vault.usgovcloudapi.net", AuthorityHost: "https://login.microsoftonline.us"}, m.Cloud)
			require.Equal(t, "https://kvgov.vault.usgovcloudapi.net", m.Vaults["gov"].URL)
		}},
		{"custom cloud", "version: 1\ncloud: {keyVaultSuffix: vault.example.net, authorityHost: 'https://Login.Example.net/'}\nvaults: {x: {url: https://kv1.vault.example.net}}\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, Cloud{Name: "Custom", KeyVaultSuffix: "vault.example.net", AuthorityHost: "https://login.example.net"}, m.Cloud)
			require.Equal(t, "https://kv1.vault.example.net", m.Vaults["x"].URL)
		}},
		{"system-assigned managed identity", "version: 1\nidentities: {mi: {kind: managedIdentity}}\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, &Identity{Name: "mi", Kind: KindManagedIdentity, Pos: Pos{2, 14}}, m.Identities["mi"])
			require.Equal(t, KindAuto, m.Identities["default"].Kind, "default still added")
		}},
		{"declared default replaces the implicit one", "version: 1\nidentities: {default: {kind: managedIdentity, objectId: 2D6C2C1E-8D4F-4C53-9D0E-3B1F6A0C9E11}}\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, &Identity{Name: "default", Kind: KindManagedIdentity, ObjectID: "2D6C2C1E-8D4F-4C53-9D0E-3B1F6A0C9E11", Pos: Pos{2, 14}}, m.Identities["default"])
		}},
		{"workload identity with everything from env", "version: 1\nidentities: {wi: {kind: workloadIdentity}}\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, &Identity{Name: "wi", Kind: KindWorkloadIdentity, Pos: Pos{2, 14}}, m.Identities["wi"])
		}},
		{"secret identity override", "version: 1\nidentities: {other: {kind: auto}}\n" + "vaults: {main: {url: https://contoso.vault.azure.net}}\nsecrets: {s: {vault: main, name: x, identity: other}}\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, "other", m.Secrets["s"].Identity)
		}},
		{"empty sections", "version: 1\nidentities:\nvaults:\nsecrets:\nfiles:\nenv:\nwatch:\n", func(t *testing.T, m *Manifest) {
			require.Len(t, m.Identities, 1)
			require.Empty(t, m.Vaults)
			require.Empty(t, m.Files)
			require.Equal(t, 5*time.Minute, m.Watch.Interval)
		}},
		{"format without secrets covers all", "version: 1\n" + vault + "files: [{path: /a, format: json}]\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, "json", m.Files[0].Format)
			require.Nil(t, m.Files[0].FormatSecrets)
		}},
		{"mode without leading zero and 0o prefix", "version: 1\n" + vault + "files: [{path: /a, template: x, mode: '644', dirMode: '0o755'}]\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, os.FileMode(0o644), m.Files[0].Mode)
			require.Equal(t, os.FileMode(0o755), m.Files[0].DirMode)
		}},
		{"command default timeout", "version: 1\nfiles: [{path: /a, template: x, onChange: {command: [reload]}}]\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, &OnChange{Command: []string{"reload"}, Timeout: 30 * time.Second}, m.Files[0].OnChange)
		}},
		{"watch signal defaults to SIGHUP", "version: 1\nwatch: {onChange: signal}\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, "SIGHUP", m.Watch.Signal)
		}},
		{"watch none has no signal", "version: 1\nwatch: {onChange: none, interval: 1s, jitter: 0}\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, Watch{Interval: time.Second, Jitter: 0, WaitMin: 2 * time.Second, WaitMax: 30 * time.Second,
				OnChange: OnChangeNone, KillTimeout: 25 * time.Second}, m.Watch)
		}},
		{"anchors, aliases and merge keys", "version: 1\nvaults:\n  main: &v {url: https://contoso.vault.azure.net}\n  copy: *v\n" +
			"files:\n  - &f {path: /a, template: x, mode: '0644'}\n  - {<<: *f, path: /b}\n", func(t *testing.T, m *Manifest) {
			require.Equal(t, m.Vaults["main"].URL, m.Vaults["copy"].URL)
			require.Equal(t, "/b", m.Files[1].Path)
			require.Equal(t, "x", m.Files[1].Template)
			require.Equal(t, os.FileMode(0o644), m.Files[1].Mode)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse("agent.yaml", []byte(tt.src), LoadOptions{})
			require.NoError(t, err)
			tt.check(t, m)
		})
	}
}

func TestParseCustomFormats(t *testing.T) {
	t.Parallel()
	src := []byte("version: 1\nfiles: [{path: /a, format: toml}]\n")
	m, err := Parse("agent.yaml", src, LoadOptions{Formats: []string{"toml"}})
	require.NoError(t, err)
	require.Equal(t, "toml", m.Files[0].Format)

	_, err = Parse("agent.yaml", []byte("version: 1\nfiles: [{path: /a, format: json}]\n"), LoadOptions{Formats: []string{"toml"}})
	require.EqualError(t, err, `agent.yaml:2:28: files[0].format: unknown format "json" (valid: toml)`)
}

func TestRelativePathsResolveAgainstManifestDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "conf", "tmpl"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "conf", "tmpl", "a.tmpl"), []byte("A"), 0o600))
	src := "version: 1\n" +
		"identities: {sp: {kind: servicePrincipal, tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, clientId: 72f988bf-86f1-41af-91ab-2d7cd011db47, certificateFile: ./sp.pem}}\n" +
		"files:\n  - {path: out/a.txt, templateFile: tmpl/a.tmpl}\n  - {path: ../b.txt, template: B}\n  - {path: /abs/c.txt, template: C}\n"
	path := filepath.Join(dir, "conf", "agent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o600))

	m, err := Load(path, LoadOptions{})
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "conf"), m.Dir)
	require.Equal(t, filepath.Join(dir, "conf", "out", "a.txt"), m.Files[0].Path)
	require.Equal(t, filepath.Join(dir, "conf", "tmpl", "a.tmpl"), m.Files[0].TemplateFile)
	require.Equal(t, "A", m.Files[0].Template)
	require.Equal(t, filepath.Join(dir, "b.txt"), m.Files[1].Path)
	require.Equal(t, "/abs/c.txt", m.Files[2].Path)
	require.Equal(t, filepath.Join(dir, "conf", "sp.pem"), m.Identities["sp"].CertificateFile)
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), LoadOptions{})
	require.ErrorIs(t, err, os.ErrNotExist)
	var errs Errors
	require.False(t, errors.As(err, &errs), "an unreadable file is not a manifest error")
}

func TestManifestErrorf(t *testing.T) {
	t.Parallel()
	m, err := Parse("conf/agent.yaml", []byte("version: 1\n"), LoadOptions{})
	require.NoError(t, err)
	require.EqualError(t, m.Errorf(Pos{7, 15}, "files[0].template", "secret %q is not defined", "x"),
		`conf/agent.yaml:7:15: files[0].template: secret "x" is not defined`)
	require.EqualError(t, m.Errorf(Pos{}, "", "something"), `conf/agent.yaml: something`)
	require.EqualError(t, m.Errorf(Pos{Line: 3}, "env.X", "bad"), `conf/agent.yaml:3: env.X: bad`)
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	names := []string{"main", "billing", "backup"}
	tests := []struct{ in, want string }{
		{"mian", "main"},
		{"MAIN", "main"},
		{"biling", "billing"},
		{"bkup", "backup"},
		{"prod", ""},
		{"x", ""},
		{"main", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Suggest(tt.in, names))
		})
	}
}
