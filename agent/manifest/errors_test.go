package manifest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// base defines a vault "main", an identity "billing" and secrets "db" and
// "tls" on lines 1-9, so that cases start at line 10.
const base = `version: 1
identities:
  billing: {kind: managedIdentity}
vaults:
  main: {url: https://contoso.vault.azure.net}
  backup: {url: https://contoso-backup.vault.azure.net}
secrets:
  db: main/db-password
  tls: main/web-tls
`

const (
	guid  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	guid2 = "0b4c3a91-7a55-4e6e-9f43-5a1c2d3e4f50"
)

// parseErrors parses src as agent.yaml and returns the error lines.
func parseErrors(t *testing.T, src string, opts LoadOptions) []string {
	t.Helper()
	m, err := Parse("agent.yaml", []byte(src), opts)
	if err == nil {
		return nil
	}
	require.Nil(t, m, "no manifest is returned with errors")
	var errs Errors
	require.True(t, errors.As(err, &errs), "errors are returned as Errors: %v", err)
	require.Equal(t, errs.Error(), err.Error())
	return strings.Split(err.Error(), "\n")
}

// mustAbs returns the absolute form of a path relative to the package.
func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	require.NoError(t, err)
	return abs
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		// Document structure.
		{"malformed yaml", "version: 1\nvaults:\n  - a\n b: c\n", []string{
			`agent.yaml:3: did not find expected key`}},
		{"malformed yaml without a line", "\tversion: 1\n", []string{
			`agent.yaml: found character that cannot start any token`}},
		{"empty file", "", []string{
			`agent.yaml:1:1: manifest is empty`}},
		{"only a comment", "# nothing\n", []string{
			`agent.yaml:1:1: manifest is empty`}},
		{"not a mapping", "- version\n", []string{
			`agent.yaml:1:1: the manifest must be a mapping with version, vaults, secrets, …, got a list`}},
		{"two documents", "version: 1\n---\nversion: 1\n", []string{
			`agent.yaml:2:1: manifest must be a single YAML document`}},
		{"missing version", "files: []\n", []string{
			`agent.yaml:1:1: missing required field "version"`}},
		{"unsupported version", "version: 2\n", []string{
			`agent.yaml:1:10: version: unsupported version 2 (this agent reads version 1)`}},
		{"quoted version", "version: \"1\"\n", []string{
			`agent.yaml:1:10: version: must be the integer 1, got a string`}},
		{"unknown top-level key", "version: 1\nfile: []\n", []string{
			`agent.yaml:2:1: file: unknown field (did you mean "files"?)`}},
		{"duplicate top-level key", "version: 1\nversion: 1\n", []string{
			`agent.yaml:2:1: version: duplicate key "version" (first defined at line 1)`}},
		{"mapping merging itself", "version: 1\nwatch: &w {interval: 1m, <<: *w}\n", []string{
			`agent.yaml:2:30: watch: a mapping cannot merge itself`}},
		{"anchored mapping used twice is reported once", "version: 1\nfiles:\n  - &f {path: /a, template: x, mode: 0600}\n  - {<<: *f, path: /b}\n", []string{
			`agent.yaml:3:38: files[0].mode: must be a quoted string such as "0600"; quote it (mode: "0600") because YAML readers disagree on unquoted octal numbers`}},
		{"section of the wrong type", "version: 1\nvaults: [main]\n", []string{
			`agent.yaml:2:9: vaults: must be a mapping, got a list`}},

		// cloud
		{"unknown cloud", "version: 1\ncloud: AzurePublik\n", []string{
			`agent.yaml:2:8: cloud: unknown cloud "AzurePublik" (use AzurePublic, AzureChina, AzureUSGovernment or a mapping with keyVaultSuffix and authorityHost) (did you mean "AzurePublic"?)`}},
		{"custom cloud", "version: 1\ncloud: {keyVaultSuffix: 'https://vault.x', authorityHost: http://login.x, name: x}\n", []string{
			`agent.yaml:2:25: cloud.keyVaultSuffix: "https://vault.x" is not a DNS suffix such as "vault.azure.net" (no scheme, no path)`,
			`agent.yaml:2:59: cloud.authorityHost: "http://login.x" must use https`,
			`agent.yaml:2:75: cloud.name: unknown field`}},
		{"custom cloud missing keys", "version: 1\ncloud: {}\n", []string{
			`agent.yaml:2:8: cloud: missing required field "keyVaultSuffix"`,
			`agent.yaml:2:8: cloud: missing required field "authorityHost"`}},

		// identities
		{"inline client secret", "version: 1\nidentities:\n  legacy:\n    kind: servicePrincipal\n    tenantId: " + guid + "\n    clientId: " + guid2 + "\n    clientSecret: hunter2\n", []string{
			`agent.yaml:7:5: identities.legacy.clientSecret: a client secret must not be written in the manifest; use clientSecretFile or clientSecretEnv`}},
		{"inline client secret on another kind", "version: 1\nidentities: {a: {kind: auto, clientSecret: x}}\n", []string{
			`agent.yaml:2:30: identities.a.clientSecret: a client secret must not be written in the manifest; use clientSecretFile or clientSecretEnv`}},
		{"service principal without tenant or credential", "version: 1\nidentities:\n  sp: {kind: servicePrincipal, clientId: " + guid + "}\n", []string{
			`agent.yaml:3:7: identities.sp: missing required field "tenantId"`,
			`agent.yaml:3:7: identities.sp: a service principal needs one of clientSecretFile, clientSecretEnv or certificateFile`}},
		{"service principal with two credentials", "version: 1\nidentities:\n  sp:\n    kind: servicePrincipal\n    tenantId: " + guid + "\n    clientId: " + guid2 + "\n    clientSecretFile: /s\n    certificateFile: /c\n    certificatePasswordFile: /p\n", []string{
			`agent.yaml:8:5: identities.sp.certificateFile: clientSecretFile and certificateFile are mutually exclusive; give only one of clientSecretFile, clientSecretEnv, certificateFile`}},
		{"certificate password without certificate", "version: 1\nidentities:\n  sp:\n    kind: servicePrincipal\n    tenantId: " + guid + "\n    clientId: " + guid2 + "\n    clientSecretEnv: SP_SECRET\n    certificatePasswordFile: /p\n", []string{
			`agent.yaml:8:5: identities.sp.certificatePasswordFile: only valid with certificateFile`}},
		{"client secret env not a variable name", "version: 1\nidentities: {sp: {kind: servicePrincipal, tenantId: " + guid + ", clientId: " + guid2 + ", clientSecretEnv: 'not a name'}}\n", []string{
			`agent.yaml:2:156: identities.sp.clientSecretEnv: must be the name of an environment variable (letters, digits and "_")`}},
		{"managed identity with two selectors", "version: 1\nidentities:\n  mi: {kind: managedIdentity, clientId: " + guid + ", resourceId: /subscriptions/x}\n", []string{
			`agent.yaml:3:79: identities.mi.resourceId: clientId and resourceId are mutually exclusive; give only one of clientId, objectId, resourceId`}},
		{"bad guid", "version: 1\nidentities:\n  mi: {kind: managedIdentity, clientId: 1234}\n", []string{
			`agent.yaml:3:41: identities.mi.clientId: must be a string, got an integer`}},
		{"malformed guid", "version: 1\nidentities:\n  legacy: {kind: auto, clientId: 72f988bf-86f1-41af-91ab}\n", []string{
			`agent.yaml:3:34: identities.legacy.clientId: must be a GUID such as 00000000-0000-0000-0000-000000000000`}},
		{"bad resource id", "version: 1\nidentities:\n  mi: {kind: managedIdentity, resourceId: /resourceGroups/x}\n", []string{
			`agent.yaml:3:43: identities.mi.resourceId: must be an Azure resource ID starting with /subscriptions/`}},
		{"unknown kind", "version: 1\nidentities:\n  mi: {kind: managedIdentty}\n", []string{
			`agent.yaml:3:14: identities.mi.kind: unknown kind "managedIdentty" (use auto, managedIdentity, servicePrincipal, workloadIdentity) (did you mean "managedIdentity"?)`}},
		{"missing kind", "version: 1\nidentities:\n  mi: {clientId: " + guid + "}\n", []string{
			`agent.yaml:3:7: identities.mi: missing required field "kind"`}},
		{"key of another kind", "version: 1\nidentities:\n  a: {kind: auto, tenantId: " + guid + "}\n", []string{
			`agent.yaml:3:19: identities.a.tenantId: not valid for kind auto (it accepts clientId, imdsProbeTimeout)`}},
		{"unknown identity key", "version: 1\nidentities:\n  a: {kind: auto, clientID: " + guid + "}\n", []string{
			`agent.yaml:3:19: identities.a.clientID: unknown field (did you mean "clientId"?)`}},
		{"bad probe timeout", "version: 1\nidentities:\n  default: {kind: auto, imdsProbeTimeout: 1 second}\n", []string{
			`agent.yaml:3:43: identities.default.imdsProbeTimeout: "1 second" is not a duration (use a number with a unit: ms, s, m, h)`}},
		{"identity not a mapping", "version: 1\nidentities:\n  a: auto\n", []string{
			`agent.yaml:3:6: identities.a: must be a mapping, got a string`}},

		// vaults
		{"vault errors", "version: 1\nvaults:\n" +
			"  a: {url: http://contoso.vault.azure.net}\n" +
			"  b: {url: https://contoso.vault.azure.cn}\n" +
			"  c: {url: https://contoso.vault.azure.net/secrets}\n" +
			"  d: {url: 'https://contoso.vault.azure.net?x=1'}\n" +
			"  e: {url: https://contoso.vault.azure.net, identity: biling}\n" +
			"  f: {identity: default}\n" +
			"  g: {url: https://my--vault.vault.azure.net}\n" +
			"  h: {url: 'https://contoso.vault.azure.net:8443'}\n" +
			"  i: {url: \"https://\\u212Aontoso.vault.azure.net\"}\n" +
			"identities: {billing: {kind: auto}}\n", []string{
			`agent.yaml:3:12: vaults.a.url: "http://contoso.vault.azure.net" must use https`,
			`agent.yaml:4:12: vaults.b.url: "https://contoso.vault.azure.cn" is not a Key Vault URL for cloud AzurePublic (expected https://NAME.vault.azure.net)`,
			`agent.yaml:5:12: vaults.c.url: "https://contoso.vault.azure.net/secrets" must be just https://host, without path, query or credentials`,
			`agent.yaml:6:12: vaults.d.url: "https://contoso.vault.azure.net?x=1" must be just https://host, without path, query or credentials`,
			`agent.yaml:7:55: vaults.e.identity: identity "biling" is not defined (did you mean "billing"?)`,
			`agent.yaml:8:6: vaults.f: missing required field "url"`,
			`agent.yaml:9:12: vaults.g.url: "https://my--vault.vault.azure.net" does not hold a valid vault name (3-24 letters, digits and single hyphens, starting with a letter)`,
			`agent.yaml:10:12: vaults.h.url: "https://contoso.vault.azure.net:8443" must not name a port`,
			"agent.yaml:11:12: vaults.i.url: \"https://\u212Aontoso.vault.azure.net\" must name an ASCII host (Azure's hosts are)"}},

		// secrets
		{"undefined vault with suggestion", base + "  pw: mian/db-password\n", []string{
			`agent.yaml:10:7: secrets.pw: vault "mian" is not defined (did you mean "main"?)`}},
		{"undefined vault without suggestion", base + "  pw: {vault: prod, name: db-password}\n", []string{
			`agent.yaml:10:15: secrets.pw: vault "prod" is not defined`}},
		{"bad secret names and versions", base +
			"  a: main/db_password\n" +
			"  b: main/db-password/ABC\n" +
			"  c: justname\n" +
			"  d: main/a/b/c\n" +
			"  e: {vault: main, name: 'a b', version: 0123456789abcdef0123456789ABCDEF}\n", []string{
			`agent.yaml:10:6: secrets.a: the secret name after "main/" is not a valid Key Vault secret name (1-127 letters, digits and hyphens)`,
			`agent.yaml:11:6: secrets.b: the version is not a Key Vault secret version (32 lower-case hex digits)`,
			`agent.yaml:12:6: secrets.c: must be a reference such as "vault/name" or "vault/name/version"`,
			`agent.yaml:13:6: secrets.d: must be a reference such as "vault/name" or "vault/name/version"`,
			`agent.yaml:14:26: secrets.e.name: "a b" is not a valid Key Vault secret name (1-127 letters, digits and hyphens)`,
			`agent.yaml:14:42: secrets.e.version: "0123456789abcdef0123456789ABCDEF" is not a Key Vault secret version (32 lower-case hex digits)`}},
		{"bad secret entry name", base + "  1db: main/x\n  db pw: main/x\n", []string{
			`agent.yaml:10:3: secrets.1db: secret entry name must start with a letter or "_" and contain only letters, digits, "_", "." and "-"`,
			`agent.yaml:11:3: secrets.db pw: secret entry name must start with a letter or "_" and contain only letters, digits, "_", "." and "-"`}},
		{"long form problems", base + "  a: {vault: main, identity: bling, allowExpired: 'yes', versoin: x}\n  b: [main, x]\n", []string{
			`agent.yaml:10:6: secrets.a: missing required field "name"`,
			`agent.yaml:10:30: secrets.a.identity: identity "bling" is not defined (did you mean "billing"?)`,
			`agent.yaml:10:51: secrets.a.allowExpired: must be true or false, got a string`,
			`agent.yaml:10:58: secrets.a.versoin: unknown field (did you mean "version"?)`,
			`agent.yaml:11:6: secrets.b: must be "vault/name[/version]" or a mapping, got a list`}},
		{"duplicate secret", base + "  db: main/other\n", []string{
			`agent.yaml:10:3: secrets.db: duplicate key "db" (first defined at line 8)`}},

		// files
		{"file problems", base + "files:\n" +
			"  - {path: /etc/a, template: x, mode: \"0999\"}\n" +
			"  - {path: /etc/b, template: x, mode: 0600}\n" +
			"  - {path: /etc/c, template: x, dirMode: '1777'}\n" +
			"  - {path: /etc/d, format: dotenvv}\n" +
			"  - {path: /etc/e, template: x, secrets: [db]}\n" +
			"  - {path: /etc/f, format: json, secrets: [db, dbb, db]}\n" +
			"  - {path: /etc/g}\n" +
			"  - {path: /etc/h, template: x, format: json}\n" +
			"  - {template: x}\n", []string{
			`agent.yaml:11:39: files[0].mode: "0999" is not an octal file mode`,
			`agent.yaml:12:39: files[1].mode: must be a quoted string such as "0600"; quote it (mode: "0600") because YAML readers disagree on unquoted octal numbers`,
			`agent.yaml:13:42: files[2].dirMode: "1777" is not an octal file mode`,
			`agent.yaml:14:28: files[3].format: unknown format "dotenvv" (valid: dotenv, json, yaml, properties) (did you mean "dotenv"?)`,
			`agent.yaml:15:33: files[4].secrets: only valid with format`,
			`agent.yaml:16:48: files[5].secrets[1]: secret "dbb" is not defined (did you mean "db"?)`,
			`agent.yaml:16:53: files[5].secrets[2]: secret "db" is listed twice`,
			`agent.yaml:17:5: files[6]: one of template, templateFile, format or cert is required`,
			`agent.yaml:18:33: files[7].format: template and format are mutually exclusive; give only one of template, templateFile, format, cert`,
			`agent.yaml:19:5: files[8]: missing required field "path"`}},
		{"duplicate path after cleaning", base + "files:\n  - {path: /etc/app/a, template: x}\n  - {path: /etc/app/../app/./a, template: y}\n", []string{
			`agent.yaml:12:12: files[1].path: "/etc/app/a" is already written by files[0] (line 11)`}},
		{"path is a directory", base + "files:\n  - {path: /etc/app/, template: x}\n", []string{
			`agent.yaml:11:12: files[0].path: must name a file, not a directory`}},
		{"path is the manifest", base + "files:\n  - {path: ./agent.yaml, template: x}\n", []string{
			`agent.yaml:11:12: files[0].path: must not be the manifest itself`}},
		{"template file missing", base + "files:\n  - path: /etc/a\n    templateFile: testdata/nope.tmpl\n", []string{
			`agent.yaml:12:19: files[0].templateFile: read template file: open ` + mustAbs(t, "testdata/nope.tmpl") + `: no such file or directory`}},
		{"template file is the output", base + "files:\n  - {path: testdata/full/templates/app.conf.tmpl, templateFile: testdata/full/templates/app.conf.tmpl}\n", []string{
			`agent.yaml:11:12: files[0].path: must not be the same file as templateFile`}},
		{"empty strings", "version: 1\nidentities:\n  sp: {kind: workloadIdentity, tokenFile: ''}\nfiles:\n  - {path: '', templateFile: ''}\n", []string{
			`agent.yaml:3:43: identities.sp.tokenFile: must not be empty`,
			`agent.yaml:5:12: files[0].path: must not be empty`,
			`agent.yaml:5:30: files[0].templateFile: must not be empty`}},
		{"template of the wrong type", base + "files:\n  - path: /etc/a\n    template: {a: b}\n", []string{
			`agent.yaml:12:15: files[0].template: must be a string, got a mapping`}},
		{"cert shorthand problems", base + "files:\n" +
			"  - {path: /a, cert: tsl, part: key}\n" +
			"  - {path: /b, cert: tls, part: certificate}\n" +
			"  - {path: /c, cert: tls}\n" +
			"  - {path: /d, cert: tls, part: key, password: db}\n" +
			"  - {path: /e, cert: tls, part: pfx, password: nope}\n" +
			"  - {path: /f, template: x, part: key}\n", []string{
			`agent.yaml:11:22: files[0].cert: secret "tsl" is not defined (did you mean "tls"?)`,
			`agent.yaml:12:33: files[1].part: unknown part "certificate" (valid: key, leaf, chain, fullchain, root, pfx)`,
			`agent.yaml:13:5: files[2]: missing required field "part"`,
			`agent.yaml:14:38: files[3].password: only valid with part: pfx`,
			`agent.yaml:15:48: files[4].password: secret "nope" is not defined`,
			`agent.yaml:16:29: files[5].part: only valid with cert`}},
		{"on change problems", base + "files:\n" +
			"  - {path: /a, template: x, onChange: {command: [a], signal: SIGHUP}}\n" +
			"  - {path: /b, template: x, onChange: {command: []}}\n" +
			"  - {path: /c, template: x, onChange: {signal: SIGBOGUS}}\n" +
			"  - {path: /d, template: x, onChange: {signal: SIGHUP, timeout: 5s}}\n" +
			"  - {path: /e, template: x, onChange: {command: reload}}\n" +
			"  - {path: /f, template: x, onChange: {}}\n" +
			"  - {path: /g, template: x, onChange: {command: [x], timeout: 0s}}\n", []string{
			`agent.yaml:11:54: files[0].onChange.signal: command and signal are mutually exclusive; give only one of command, signal`,
			`agent.yaml:12:49: files[1].onChange.command: must not be empty`,
			`agent.yaml:13:48: files[2].onChange.signal: unknown signal "SIGBOGUS" (valid: SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE, SIGPWR)`,
			`agent.yaml:14:56: files[3].onChange.timeout: only valid with command`,
			`agent.yaml:15:49: files[4].onChange.command: must be a list of strings, got a string`,
			`agent.yaml:16:39: files[5].onChange: one of command or signal is required`,
			`agent.yaml:17:63: files[6].onChange.timeout: must be at least 1ns`}},
		{"owner and group", base + "files:\n  - {path: /a, template: x, owner: '', group: -1}\n", []string{
			`agent.yaml:11:36: files[0].owner: must not be empty`,
			`agent.yaml:11:47: files[0].group: -1 is not a valid numeric id`}},
		{"files not a list", base + "files: {path: /a}\n", []string{
			`agent.yaml:10:8: files: must be a list, got a mapping`}},

		// env
		{"env problems", base + "env:\n  1BAD: x\n  GOOD-ISH: x\n  EMPTY:\n  MAP: {a: b}\n  OK: x\n  OK: y\n", []string{
			`agent.yaml:11:3: env.1BAD: environment variable name must start with a letter or "_" and contain only letters, digits and "_"`,
			`agent.yaml:12:3: env.GOOD-ISH: environment variable name must start with a letter or "_" and contain only letters, digits and "_"`,
			`agent.yaml:13:9: env.EMPTY: must be a string, got null`,
			`agent.yaml:14:8: env.MAP: must be a string, got a mapping`,
			`agent.yaml:16:3: env.OK: duplicate key "OK" (first defined at line 15)`}},

		// watch
		{"watch problems", "version: 1\nwatch:\n  interval: 500ms\n  jitter: 1.5\n  wait: {min: 10s, max: 5s}\n  onChange: restrat\n  signal: SIGHUP\n  killTimeout: 25\n", []string{
			`agent.yaml:3:13: watch.interval: must be at least 1s`,
			`agent.yaml:4:11: watch.jitter: must be a number between 0 and 1`,
			`agent.yaml:5:25: watch.wait.max: must not be less than min (10s)`,
			`agent.yaml:6:13: watch.onChange: unknown value "restrat" (valid: restart, signal, none) (did you mean "restart"?)`,
			`agent.yaml:8:16: watch.killTimeout: must be a duration such as "30s" or "5m", got an integer`}},
		{"watch signal without signal mode", "version: 1\nwatch: {onChange: restart, signal: SIGHUP}\n", []string{
			`agent.yaml:2:28: watch.signal: only valid with onChange: signal`}},
		{"watch bad signal", "version: 1\nwatch: {onChange: signal, signal: KILL}\n", []string{
			`agent.yaml:2:35: watch.signal: unknown signal "KILL" (valid: SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE, SIGPWR)`}},
		{"watch wait min above default max", "version: 1\nwatch: {wait: {min: 1m}}\n", []string{
			`agent.yaml:2:21: watch.wait.min: must not be more than max (30s)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, parseErrors(t, tt.src, LoadOptions{}))
		})
	}
}
