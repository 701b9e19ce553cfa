package agent

import (
	"reflect"
	"testing"

	"github.com/kv-agent/agent/agent/envref"
	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/agent/supervise"
)

func TestBaseChildEnv(t *testing.T) {
	t.Parallel()
	environ := []string{"PATH=/bin", "A=1", "AZURE_CLIENT_SECRET=s", "HOME=/root", "A=2", "IDENTITY_HEADER=h",
		"SP_SECRET=x", "TZ=UTC", "AZURE_CLIENT_ID=c", "LOGNAME=root", "NOEQUALS"}
	m := &manifest.Manifest{Identities: map[string]*manifest.Identity{"sp": {Kind: manifest.KindServicePrincipal, ClientSecretEnv: "SP_SECRET"}}}
	app := &supervise.UserSpec{Name: "app", Home: "/home/app"}
	cases := []struct {
		name string
		m    *manifest.Manifest
		o    childEnvOptions
		want []string
	}{
		{"scrubbed, first position and last value kept", m, childEnvOptions{},
			[]string{"PATH=/bin", "A=2", "HOME=/root", "TZ=UTC", "AZURE_CLIENT_ID=c", "LOGNAME=root"}},
		{"kept", m, childEnvOptions{keepCredentials: true},
			[]string{"PATH=/bin", "A=2", "AZURE_CLIENT_SECRET=s", "HOME=/root", "IDENTITY_HEADER=h", "SP_SECRET=x", "TZ=UTC", "AZURE_CLIENT_ID=c", "LOGNAME=root"}},
		{"no manifest", nil, childEnvOptions{},
			[]string{"PATH=/bin", "A=2", "HOME=/root", "SP_SECRET=x", "TZ=UTC", "AZURE_CLIENT_ID=c", "LOGNAME=root"}},
		{"pristine", m, childEnvOptions{pristine: true}, []string{"PATH=/bin", "HOME=/root", "TZ=UTC"}},
		{"pristine with credentials", m, childEnvOptions{pristine: true, keepCredentials: true},
			[]string{"PATH=/bin", "HOME=/root", "TZ=UTC", "AZURE_CLIENT_SECRET=s", "IDENTITY_HEADER=h", "SP_SECRET=x"}},
		{"user", m, childEnvOptions{user: app},
			[]string{"PATH=/bin", "A=2", "HOME=/home/app", "TZ=UTC", "AZURE_CLIENT_ID=c", "LOGNAME=app", "USER=app"}},
		{"pristine user", m, childEnvOptions{pristine: true, user: app}, []string{"PATH=/bin", "HOME=/home/app", "TZ=UTC", "USER=app"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := baseChildEnv(environ, tc.m, tc.o).environ(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestWithReferences(t *testing.T) {
	t.Parallel()
	refs, err := envref.Scan([]string{
		"A=@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/a/0123456789abcdef0123456789abcdef)",
		"B=@Microsoft.KeyVault(VaultName=other;SecretName=b)",
	})
	if err != nil {
		t.Fatal(err)
	}
	base, err := envManifest(refs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := withReferences(base, refs)
	if err != nil {
		t.Fatal(err)
	}
	if len(base.Secrets) != 0 || len(base.Vaults) != 0 {
		t.Errorf("withReferences changed its input")
	}
	a, b := m.Secrets["env:A"], m.Secrets["env:B"]
	if a == nil || b == nil || m.Vaults[a.Vault].URL != "https://contoso.vault.azure.net" || a.Version != "0123456789abcdef0123456789abcdef" ||
		m.Vaults[b.Vault].URL != "https://other.vault.azure.net" || a.Identity != manifest.DefaultIdentity || m.Identities[manifest.DefaultIdentity].Kind != manifest.KindAuto {
		t.Errorf("secrets %+v %+v, vaults %+v", a, b, m.Vaults)
	}
	china, _ := envref.Scan([]string{"C=@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.cn/secrets/c)", "D=@Microsoft.KeyVault(VaultName=d1x;SecretName=d)"})
	cm, err := envManifest(china)
	if err != nil || cm.Cloud.Name != manifest.CloudChina {
		t.Fatalf("cloud of a vault.azure.cn reference: %v, %v", cm, err)
	}
	if m, _ := withReferences(cm, china); m.Vaults[m.Secrets["env:D"].Vault].URL != "https://d1x.vault.azure.cn" {
		t.Errorf("VaultName reference not in the references' cloud")
	}
}
