// Package kvserver is the emulator's Key Vault secrets data plane: an
// [http.Handler] that answers the REST API of <vault>.vault.azure.net (and
// the sovereign-cloud suffixes) closely enough that the official azsecrets
// client cannot tell it from Azure. The emulator terminates TLS for those
// hosts and hands the decrypted requests to [Server.ServeHTTP]; token
// issuing and signature checking stay with the emulator, which passes
// [Config.Authenticate].
//
// # Operations
//
//	GET   /secrets                      list secrets (current versions, no values), paged
//	GET   /secrets/{name}[/]            current version (SecretBundle)
//	GET   /secrets/{name}/{version}     one version
//	GET   /secrets/{name}/versions      list versions (sorted by id, like Key Vault), paged
//	PUT   /secrets/{name}               set: a new current version
//	PATCH /secrets/{name}[/][{version}] update contentType, tags, enabled, nbf, exp
//
// Every request needs the api-version query parameter (any value). Pages hold
// up to maxresults items (1..25, default 25); nextLink is an absolute URL on
// the vault's own host, null on the last page.
//
// # Order of checks
//
// Unknown vault (404 VaultNotFound), missing api-version (400 BadParameter),
// missing token (401 with the WWW-Authenticate challenge; Observe kind
// "challenge"), invalid token or wrong audience (401 with the challenge),
// per-vault request limit (429 Throttled), injected fault, unknown route (404)
// or method (405), access rule (403 ForbiddenByRbac), then the operation
// (404 SecretNotFound, 403 SecretDisabled, 400 BadParameter, 200).
//
// # Emulator choices
//
// Where Key Vault's behaviour cannot or need not be reproduced:
//   - An unknown vault gets 404 {"error":{"code":"VaultNotFound"}}; in Azure
//     the DNS lookup would fail instead.
//   - Unknown routes get 404 NotFound and unsupported methods 405
//     MethodNotAllowed, both in Key Vault's error shape. Delete, backup,
//     restore and recovery are not implemented.
//   - A bad token gets "AKV10013: Invalid token: …" with the Authenticate
//     error (the token itself is cut out); a wrong audience gets Key Vault's
//     "AKV10022: Invalid audience …".
//   - The request limit counts authenticated requests in fixed 10-second
//     windows per vault; challenges and throttled requests are not counted.
//   - Faults apply only to authenticated requests, never to the challenge,
//     so a client can always learn the tenant and resource. "reset" closes
//     the TCP connection with SO_LINGER 0 (RST); on HTTP/2 the stream is
//     aborted instead.
//   - GET serves expired and not-yet-valid versions with their attributes,
//     as Key Vault does (recorded traffic shows a GET of a secret whose nbf
//     lies in the future answered 200); only disabled versions are refused.
//   - Secret names are case-insensitive; ids keep the name's first spelling.
//   - The challenge names login.microsoftonline.com (login.chinacloudapi.cn
//     for vault.azure.cn, login.microsoftonline.us for
//     vault.usgovcloudapi.net) and resource https://<suffix>.
//
// # Secrets in logs
//
// Neither values nor tokens are ever logged, put in an error body, or
// panicked with. Request bodies are never quoted back.
package kvserver
