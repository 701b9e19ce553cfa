// Package emulator is a local Azure that unmodified Azure clients talk to:
// IMDS and the App Service managed-identity endpoint, Entra ID's token
// endpoint, and the Key Vault secrets data plane (package kvserver). It is
// behind "agent emulator" (RunCommand) and is started in-process by tests
// (Start).
//
// # How clients reach it
//
// The emulator listens on one loopback address and is an HTTP forward
// proxy for Azure's own host names. A client needs only the variables of
// [Emulator.Env]:
//
//	HTTPS_PROXY, HTTP_PROXY   http://127.0.0.1:PORT (the listener)
//	NO_PROXY                  localhost,127.0.0.1,::1
//	SSL_CERT_FILE             the emulator's CA certificate (PEM)
//	SSL_CERT_DIR              the directory holding only that file, so Go
//	                          clients do not parse the machine's CA directory
//	REQUESTS_CA_BUNDLE        the same, for Python
//	AGENT_EMULATOR_URL        the listener, for the admin endpoints
//	https_proxy, http_proxy, no_proxy, CURL_CA_BUNDLE
//	                          the same values for curl, which ignores HTTP_PROXY
//	                          and SSL_CERT_FILE
//
// and, to select the App Service managed-identity source instead of IMDS,
// those of [Emulator.AppServiceEnv]: IDENTITY_ENDPOINT
// (http://127.0.0.1:PORT/msi/token) and IDENTITY_HEADER.
//
// CONNECT to login.microsoftonline.com, login.chinacloudapi.cn,
// login.partner.microsoftonline.cn, login.microsoftonline.us and
// <vault>.vault.azure.net|.vault.azure.cn|.vault.usgovcloudapi.net on
// port 443 is answered with TLS (HTTP/1.1) using a certificate minted for
// that host by the emulator's CA (ECDSA P-256, created at Start). Plain
// http://169.254.169.254/ requests are IMDS. Every other destination gets
// 502 with a body naming it: nothing is ever forwarded to a network.
// Clients therefore run their real code paths: instance discovery, OIDC
// metadata, the Key Vault 401 challenge with resource verification.
//
// # Seed file
//
// The starting state is a YAML seed ([LoadSeed], [ParseSeed]) or a [Seed]
// built in Go. Unknown keys, duplicates, wrong types, access rules naming
// no identity and unreadable files are all reported at once, each as
// "file:line:col: field: what is wrong".
//
//	tenant: 72f988bf-86f1-41af-91ab-2d7cd011db47  # a GUID; default DefaultTenant
//	tokenLifetime: 1h        # every token; default 1h (Entra ID) and 24h (managed identity), as Azure
//	latency: 0s              # added to every request; --latency overrides it
//	imds:
//	  unavailableFor: 30s    # IMDS answers 410 for this long after start and reset
//	  absent: false          # true: IMDS connections are reset (RST), as if nothing listened
//	managedIdentities:
//	  system: {clientId: GUID, objectId: GUID}      # omit for none; {} derives IDs
//	  userAssigned:
//	    - {name: billing, clientId: GUID, objectId: GUID, resourceId: /subscriptions/…}
//	servicePrincipals:
//	  - {name: ci, clientId: GUID, secret: "…"}
//	  - {name: deploy, certificate: certs/deploy.pem}  # PEM certificate(s), relative to the seed
//	  - name: app
//	    federated:                                    # workload identity
//	      issuer: https://oidc.example/               # required
//	      subject: system:serviceaccount:default:app  # required
//	      audience: api://AzureADTokenExchange        # the default
//	      key: issuer.pem   # PEM public key or certificate; default the emulator's own key
//	vaults:
//	  contoso:                                # served as contoso.vault.azure.net (and .cn, .usgovcloudapi.net)
//	    secrets:
//	      db-password: "plain value"          # one version
//	      single: {value: v, contentType: text/plain, enabled: false}
//	      api-key:
//	        versions:                         # oldest first; the last is current
//	          - {value: old}
//	          - {value: new, contentType: text/plain, tags: {team: pay}, enabled: true,
//	             expires: 2030-01-01T00:00:00Z, notBefore: 2020-01-01T00:00:00Z}
//	    certificates:                         # generated; served as the secret of the same name
//	      web-tls: {subject: www.contoso.com, dnsNames: [www.contoso.com], keyType: ECDSA,
//	                chainLength: 2, format: pfx, exportable: true, shuffle: false, validFor: 2160h}
//	    access:                               # default: nobody may do anything
//	      - {identity: system, permissions: [get, list]}   # system | user-assigned name | SP name
//	      - {identity: ci, permissions: [get, list, set]}  # set also allows updating attributes
//	    limit: {requests: 100, retryAfter: 2s}  # per 10 s; 429 Throttled beyond (Retry-After only if set)
//	    faults: {rate: 0.1, kinds: [500, 503, 429, reset]}
//
// Client and object IDs may be omitted: stable GUIDs are derived from the
// name. Identity names are unique across managed identities and service
// principals; "system" is the system-assigned identity.
//
// # Protocols and emulator choices
//
// IMDS follows Azure (reference/AZURE.md §1.1): "Metadata: true" is
// required (400 bad_request_102 otherwise, which is also what the SDK's
// probe gets); client_id, object_id or msi_res_id (and mi_res_id) select a
// user-assigned identity; without a selector the system-assigned identity
// is used, and if there is none the answer is 400 "Identity not found",
// as for an identity that is not assigned. All values in the token
// response are strings, and the Server header is IMDS's. The body of the
// 410 answer is an emulator choice (Azure documents only the status).
// Like IMDS, which caches the tokens of the machine's identities, the
// emulator hands out the token it already issued for an identity and
// resource (expires_in counting what is left) until half of its lifetime
// is gone; when IMDS refreshes is not documented, so that point is an
// emulator choice.
//
// The App Service endpoint serves api-version 2019-08-01 with
// X-IDENTITY-HEADER and the client_id, principal_id, object_id and
// mi_res_id selectors. Azure documents no error body for it; the emulator
// answers errors in IMDS's shape (401 for a wrong header).
//
// Entra ID serves instance discovery, the tenant's OpenID configuration
// (endpoints on the host the request came to) and the v2.0 token endpoint
// for client credentials with a client secret, a certificate assertion
// (PS256/RS256 signature by a registered certificate found by x5t#S256,
// aud = the token endpoint, exp, iss = sub = client ID) or a federated
// token (signature by the seed's key or the emulator's, iss, sub, aud,
// exp). Errors have Entra's full shape with the real codes where known:
// AADSTS90002 unknown tenant, AADSTS700016 unknown client, AADSTS7000215
// bad secret, AADSTS700027 unregistered certificate or bad signature,
// AADSTS700024 expired assertion, AADSTS700021 issuer mismatch,
// AADSTS70021/700211/700212 federated mismatches. A wrong assertion
// audience answers AADSTS50027 (an emulator choice). The tenant in the path
// must be the seed's.
//
// Access tokens are RS256 JWTs signed by a key made at Start, with aud
// (the resource without /.default), iss https://sts.windows.net/<tid>/,
// iat, nbf, exp, tid, oid, sub, appid and idtyp "app". Key Vault accepts
// only tokens this emulator issued, while they are valid.
//
// # Admin endpoints
//
//	GET  /_emulator/stats                  Stats as JSON
//	POST /_emulator/reset                  restore the seed, clear counters and IMDS's token cache, restart the IMDS window
//	GET  /_emulator/ca.pem                 the CA certificate
//	GET  /_emulator/federated-token?sp=N   a workload-identity token for service principal N
//	GET  /_emulator/health                 "ok"
//
// New secret versions can be added while running through the real
// set-secret API by an identity with the "set" permission.
//
// # Logging
//
// Logs go to Options.Logger (log/slog). At debug level there is one line
// per request with method, host, path, status and identity name. No level
// ever carries a secret value, a token, a client secret, an assertion or
// the App Service identity header.
package emulator
