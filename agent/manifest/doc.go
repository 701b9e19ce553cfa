// Package manifest reads and validates agent.yaml, the file that tells the
// agent which Key Vault secrets to fetch, with which identity, and where to
// put them.
//
// [Load] decodes the file strictly and reports every problem it finds, not
// just the first, as [Errors]. Each error names the file as given, the
// line and column, the field and what is wrong:
//
//	agent.yaml:12:5: secrets.db: vault "mian" is not defined (did you mean "main"?)
//	agent.yaml:31:11: files[2].mode: "0999" is not an octal file mode
//
// A file that is not valid YAML gives a single error with the YAML
// parser's message ("agent.yaml:3: did not find expected key"). Errors
// never contain a secret value: values of credential fields are not
// repeated, and templates are never quoted.
//
// # Example
//
//	version: 1
//	cloud: AzurePublic
//	identities:
//	  default: {kind: auto}
//	  billing: {kind: managedIdentity, clientId: 2d6c2c1e-8d4f-4c53-9d0e-3b1f6a0c9e11}
//	  legacy:
//	    kind: servicePrincipal
//	    tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
//	    clientId: 0b4c3a91-7a55-4e6e-9f43-5a1c2d3e4f50
//	    clientSecretFile: /etc/agent/sp-secret
//	vaults:
//	  main:    {url: https://contoso.vault.azure.net}
//	  billing: {url: https://contoso-billing.vault.azure.net, identity: billing}
//	secrets:
//	  db_password: main/db-password
//	  stripe: {vault: billing, name: stripe-key}
//	  tls: {vault: main, name: web-tls, identity: legacy}
//	files:
//	  - path: /etc/app/config.json
//	    template: '{"db":{"password":{{ secret "db_password" | toJSON }}}}'
//	    mode: "0640"
//	    owner: app
//	    onChange: {command: [systemctl, reload, app]}
//	  - path: tls/key.pem            # relative: next to agent.yaml
//	    cert: tls
//	    part: key
//	  - path: /etc/app/app.env
//	    format: dotenv
//	    secrets: [db_password, stripe]
//	env:
//	  DB_PASSWORD: '{{ secret "db_password" }}'
//	watch:
//	  interval: 2m
//	  onChange: signal
//	  signal: SIGHUP
//
// # General rules
//
//   - Unknown keys, duplicate keys, values of the wrong type and missing
//     required keys are errors. Anchors, aliases and merge keys (<<) work.
//   - Durations are strings in Go syntax: "500ms", "30s", "5m", "1h30m".
//   - Relative paths (files[].path, files[].templateFile and the credential
//     file paths of identities) are resolved against the directory that
//     holds the manifest, not the working directory.
//   - Names used as references (identities, vaults, secrets) are checked;
//     a misspelt name gets a "did you mean" hint.
//
// # version (required)
//
// The integer 1.
//
// # cloud
//
// Which Azure cloud the vaults live in. One of the strings
//
//	AzurePublic        vault.azure.net          https://login.microsoftonline.com (the default)
//	AzureChina         vault.azure.cn           https://login.chinacloudapi.cn
//	AzureUSGovernment  vault.usgovcloudapi.net  https://login.microsoftonline.us
//
// or, for any other cloud, a mapping:
//
//	cloud: {keyVaultSuffix: vault.example.net, authorityHost: https://login.example.net}
//
// keyVaultSuffix is a DNS suffix (no scheme); authorityHost is an https URL
// without a path.
//
// # identities
//
// A mapping from a name to an identity: how the agent gets Azure
// credentials. An identity named "default" always exists; if the manifest
// does not declare it, it is {kind: auto}. Names contain letters, digits,
// "_", "." and "-". Every identity has a kind, which decides its other keys:
//
//   - kind: auto — workload identity if its environment is present, then
//     managed identity, then a service principal from AZURE_* variables.
//     clientId (optional) selects a user-assigned managed identity;
//     imdsProbeTimeout (duration) bounds the check for the instance
//     metadata service; when absent (zero), the agent's setting applies
//     (AGENT_IMDS_PROBE_TIMEOUT, default 1s).
//   - kind: managedIdentity — the system-assigned identity, or a
//     user-assigned one selected by at most one of clientId, objectId or
//     resourceId (a resource ID starting with /subscriptions/).
//   - kind: servicePrincipal — tenantId and clientId (both required) and
//     exactly one credential: clientSecretFile (a file holding the secret),
//     clientSecretEnv (the name of an environment variable holding it) or
//     certificateFile (PEM or PKCS#12), optionally with
//     certificatePasswordFile. A clientSecret key is refused: a client
//     secret must not be written in the manifest.
//   - kind: workloadIdentity — tenantId, clientId and tokenFile, each
//     optional; left out, they come from AZURE_TENANT_ID, AZURE_CLIENT_ID
//     and AZURE_FEDERATED_TOKEN_FILE at run time.
//
// tenantId, clientId and objectId are GUIDs (8-4-4-4-12 hex digits).
// Credential files are read at run time, not when the manifest is loaded.
//
// # vaults
//
// A mapping from a name to a vault:
//
//   - url (required): https://NAME.<keyVaultSuffix of the cloud>, with an
//     optional trailing slash; no other path, query or port. It is
//     normalised to lower-case https://host.
//   - identity: the identity used for this vault; default "default".
//
// # secrets
//
// A mapping from a name (used by templates; it starts with a letter or "_"
// and contains letters, digits, "_", "." and "-") to a Key Vault secret,
// either in short form
//
//	db_password: main/db-password                                   # vault/name
//	db_pinned:   main/db-password/0123456789abcdef0123456789abcdef  # vault/name/version
//
// or in long form:
//
//   - vault (required): a vault name from vaults.
//   - name (required): the Key Vault secret name, 1-127 letters, digits and
//     hyphens.
//   - version: 32 lower-case hex digits; default the current version.
//   - identity: overrides the vault's identity for this secret.
//   - warnBefore: for a secret holding a certificate, how long before the
//     certificate expires the agent warns (logs and agent check); default
//     "720h" (30 days).
//   - allowExpired: true to use the secret after its expiry date; default
//     false.
//
// # files
//
// A list of output files. Each has:
//
//   - path (required): where to write. Two entries may not write the same
//     path.
//   - exactly one source of content:
//     template (an inline Go template);
//     templateFile (a template file, read when the manifest is loaded);
//     format (a built-in format: dotenv, json, yaml or properties), with
//     secrets, an optional list of the secret names the format covers
//     (default all);
//     or cert (a secret holding a certificate) with part (key, leaf,
//     chain, fullchain, root or pfx) and, for pfx, an optional password
//     naming the secret that holds the PKCS#12 password.
//   - mode: the file's permissions as a quoted octal string; default
//     "0600". An unquoted number such as 0600 is refused, because YAML
//     readers disagree on whether it is octal.
//   - dirMode: permissions of directories the agent creates; default "0700".
//   - owner, group: a user or group name, or a numeric id (applied when the
//     agent runs as root).
//   - onChange: what to do after the content changed, either
//     {command: [argv…], timeout: "30s"} to run a program (not through a
//     shell; timeout defaults to 30s) or {signal: SIGHUP} to signal the
//     child started by "agent run".
//
// # env
//
// A mapping from an environment variable name ([A-Za-z_][A-Za-z0-9_]*) to
// a template, for the child started by "agent run". The order is kept.
// A number or boolean value is taken as written (PORT: 8080 is "8080").
//
// # watch
//
// Settings of "agent watch" and "agent run --watch":
//
//   - interval: how often to check for new secret versions; default "5m",
//     at least "1s".
//   - jitter: random spread added to the interval, as a fraction of it
//     between 0 and 1; default 0.1.
//   - wait: {min, max} quiescence before acting on a change; defaults
//     "2s" and "30s".
//   - onChange: what happens to the child when its outputs change: restart
//     (the default), signal or none.
//   - signal: the signal sent when onChange is signal; default SIGHUP.
//   - killTimeout: how long a stopping child gets before it is killed;
//     default "25s".
//
// Signal names are SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
// SIGWINCH, SIGALRM, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE and
// SIGPWR; the "SIG" prefix may be left out.
package manifest
