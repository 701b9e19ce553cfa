// Package keyvault fetches secrets from Azure Key Vault with the official
// azsecrets client.
//
// A Fetcher gets every requested reference in parallel (bounded per vault),
// each distinct (vault, name, version, identity) once. The first request to
// a vault goes alone so that exactly one 401 challenge is elicited per
// vault; the identity's token is acquired while that challenge is in
// flight. Throttling (429), server errors (5xx) and network errors are
// retried by azcore's retry policy: exponential backoff with jitter,
// honouring Retry-After when Key Vault sends it. The caller's context
// deadline bounds the whole fetch.
//
// Requests go only to https hosts under the cloud's Key Vault suffix; a
// request elsewhere, such as a nextLink naming a foreign host, is refused
// before any token is attached.
//
// Failures are *Error values whose Kind is one of the Err* sentinels, so a
// caller can tell "not found" from "forbidden" from "throttled". No error
// carries a secret value.
package keyvault
