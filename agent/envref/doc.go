// Package envref parses Key Vault references written in environment
// variables, App Service style:
//
//	@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/db-password)
//	@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/db-password/0123456789abcdef0123456789abcdef)
//	@Microsoft.KeyVault(VaultName=contoso;SecretName=db-password)
//	@Microsoft.KeyVault(VaultName=contoso;SecretName=db-password;SecretVersion=0123456789abcdef0123456789abcdef)
//
// As in App Service, the keys (SecretUri, VaultName, SecretName,
// SecretVersion) and the "@Microsoft.KeyVault" prefix are case-insensitive,
// spaces around keys and values are ignored, and a trailing slash after
// the secret name or version is allowed.
//
// Unlike App Service, which passes a reference it cannot resolve through
// to the application unchanged, this package fails closed: any value that
// starts with "@Microsoft.KeyVault" is a reference, and one that cannot be
// parsed is an error naming the variable. Unknown or repeated keys, a
// missing part, a SecretUri that is not https, that names a port, query or
// other path, or whose host is not a vault under the cloud's Key Vault
// suffix, are all errors. Errors name the variable and the offending key
// or host; they never repeat the whole value.
//
// The package knows nothing of Azure clients: [Ref.VaultURL] turns a
// reference into the https://NAME.SUFFIX URL of its vault for a given
// cloud suffix, and the caller fetches it.
package envref
