package agent_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kv-agent/agent/agent/emulator/kvserver"
)

const (
	dbValue     = "s3cr3t-db-VALUE-8a1f"
	apiOldValue = "api-key-OLD-value-31c"
	apiNewValue = "api-key-NEW-value-77d"
)

func kvRef(inner string) string { return "@Microsoft.KeyVault(" + inner + ")" }

// runEnvCase is one run whose child writes its environment to a file;
// the environment must be exactly base + extra, changed by set and unset
// (or, with only, exactly those variables of base + extra, plus set).
type runEnvCase struct {
	name     string
	manifest string // written to dir/agent.yaml and passed with -m when not empty
	flags    []string
	extra    func(t *testing.T, s *setup) []string
	set      map[string]string
	unset    []string
	only     []string
	files    map[string]string
	kinds    map[string]int
}

func TestRunChildEnvironment(t *testing.T) {
	t.Parallel()
	pinned := kvserver.VersionID("contoso", "api-key", 0)
	creds := []string{"AZURE_CLIENT_SECRET=decoy-client-secret", "AZURE_CLIENT_CERTIFICATE_PATH=/nonexistent/cert.pem",
		"AZURE_CLIENT_CERTIFICATE_PASSWORD=decoy-password", "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=true", "MSI_SECRET=decoy-msi"}
	credNames := []string{"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
		"AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "MSI_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER"}
	workload := func(t *testing.T, s *setup) []string {
		tok, err := s.e.FederatedToken("wi")
		if err != nil {
			t.Fatal(err)
		}
		return append([]string{"AZURE_TENANT_ID=" + tenantID, "AZURE_CLIENT_ID=" + wiClient,
			"AZURE_FEDERATED_TOKEN_FILE=" + writeFile(t, s.dir, "wi-token", tok),
			"DB=" + kvRef("SecretUri=https://contoso.vault.azure.net/secrets/db-password")}, creds...)
	}
	cases := []runEnvCase{
		{name: "references without a manifest",
			extra: func(*testing.T, *setup) []string {
				return []string{
					"DB=" + kvRef("SecretUri=https://contoso.vault.azure.net/secrets/db-password"),
					"API=" + kvRef("VaultName=contoso;SecretName=api-key"),
					"API_SPACES=" + kvRef(" vaultname = CONTOSO ; secretname = api-key "),
					"PLAIN=@not-a-reference", "EMPTY=",
				}
			},
			set:   map[string]string{"DB": dbValue, "API": apiNewValue, "API_SPACES": apiNewValue},
			kinds: map[string]int{"imds": 1, "challenge": 1}},
		{name: "version-pinned references",
			extra: func(*testing.T, *setup) []string {
				return []string{
					"OLD_URI=" + kvRef("SecretUri=https://contoso.vault.azure.net/secrets/api-key/"+pinned),
					"OLD_NAMED=" + kvRef("VaultName=contoso;SecretName=api-key;SecretVersion="+pinned),
					"NEW=" + kvRef("SecretUri=https://contoso.vault.azure.net/secrets/api-key/"),
				}
			},
			set: map[string]string{"OLD_URI": apiOldValue, "OLD_NAMED": apiOldValue, "NEW": apiNewValue}},
		{name: "manifest env, files and references together",
			manifest: contosoManifest + "env:\n  DB_PASSWORD: '{{ secret \"db\" }}'\n  GREETING: hello\n  OVERRIDDEN: '{{ secret \"api\" }}'\n",
			extra: func(*testing.T, *setup) []string {
				return []string{"REF=" + kvRef("VaultName=contoso;SecretName=db-password"),
					"OVERRIDDEN=" + kvRef("VaultName=contoso;SecretName=no-such-secret")}
			},
			set:   map[string]string{"DB_PASSWORD": dbValue, "GREETING": "hello", "OVERRIDDEN": apiNewValue, "REF": dbValue},
			files: map[string]string{"out/db.txt": "db=" + dbValue, "out/api.txt": apiNewValue + " pay"}},
		{name: "credentials scrubbed (workload identity)", extra: workload,
			set: map[string]string{"DB": dbValue}, unset: credNames, kinds: map[string]int{"entra-token": 1, "imds": 0}},
		{name: "credentials kept", flags: []string{"--keep-credentials"}, extra: workload,
			set: map[string]string{"DB": dbValue}, kinds: map[string]int{"entra-token": 1}},
		{name: "credentials scrubbed (App Service)",
			extra: func(t *testing.T, s *setup) []string {
				return append(s.e.AppServiceEnv(), "DB="+kvRef("VaultName=contoso;SecretName=db-password"))
			},
			set: map[string]string{"DB": dbValue}, unset: credNames, kinds: map[string]int{"appservice": 1, "imds": 0}},
		{name: "client secret variable of the manifest scrubbed",
			manifest: spManifest("clientSecretEnv: SP_SECRET") + "env:\n  DB: '{{ secret \"db\" }}'\n",
			extra:    func(*testing.T, *setup) []string { return []string{"SP_SECRET=" + spSecret} },
			set:      map[string]string{"DB": dbValue}, unset: []string{"SP_SECRET"}},
		{name: "pristine", flags: []string{"--pristine"},
			manifest: contosoManifest + "env:\n  DB_PASSWORD: '{{ secret \"db\" }}'\n",
			extra: func(*testing.T, *setup) []string {
				return append([]string{"USER=tester", "TZ=Europe/Paris", "LANG=C.UTF-8", "OTHER=x",
					"REF=" + kvRef("VaultName=contoso;SecretName=db-password")}, creds...)
			},
			only: []string{"PATH", "HOME", "USER", "TZ", "LANG"}, set: map[string]string{"DB_PASSWORD": dbValue}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runEnvScenario(t, tc)
		})
	}
}

func runEnvScenario(t *testing.T, tc runEnvCase) {
	dir := t.TempDir()
	e := startRunEmulator(t, dir)
	home := filepath.Join(dir, "home")
	extra := []string{"HOME=" + home}
	if tc.extra != nil {
		extra = append(extra, tc.extra(t, &setup{dir: dir, e: e})...)
	}
	args := append([]string{"run"}, tc.flags...)
	if tc.manifest != "" {
		args = append(args, "-m", writeFile(t, dir, "agent.yaml", tc.manifest))
	}
	out := filepath.Join(dir, "env.json")
	args = append(args, "--", childBin(t), "env", out)
	r := runAgent(t, e, append(extra, "AGENT_LOG_LEVEL=debug"), args...)
	expectCode(t, r, 0)
	assertNoLeak(t, r.stdout+r.stderr)

	want := baseEnv(e, home)
	for k, v := range envMapOf(extra) {
		want[k] = v
	}
	want["AGENT_LOG_LEVEL"] = "debug"
	if tc.only != nil {
		kept := map[string]string{}
		for _, k := range tc.only {
			if v, ok := want[k]; ok {
				kept[k] = v
			}
		}
		want = kept
	}
	for _, k := range tc.unset {
		delete(want, k)
	}
	for k, v := range tc.set {
		want[k] = v
	}
	if diffs := diffEnv(readEnv(t, out), want); len(diffs) > 0 {
		t.Errorf("child environment differs:\n%s", strings.Join(diffs, "\n"))
	}
	for rel, content := range tc.files {
		if got := readFile(t, filepath.Join(dir, rel)); got != content {
			t.Errorf("%s = %s, want %s", rel, shown(got), shown(content))
		}
	}
	stats := e.Stats()
	for kind, n := range tc.kinds {
		if got := stats.Kinds[kind]; (n == 0 && got != 0) || got < n {
			t.Errorf("emulator saw %d %q requests, want %d", got, kind, n)
		}
	}
}
