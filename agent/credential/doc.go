// Package credential turns the manifest's identities into Azure token
// credentials, built on azidentity.
//
// # Kinds
//
//   - managedIdentity: the system-assigned identity, or a user-assigned one
//     chosen by clientId, objectId or resourceId. The source (App Service,
//     Azure Arc, Cloud Shell, IMDS) is the one azidentity detects.
//   - servicePrincipal: tenantId and clientId, with a client secret read from
//     clientSecretFile or the variable clientSecretEnv, or a certificate
//     (PEM or PFX) from certificateFile.
//   - workloadIdentity: AKS workload identity; AZURE_TENANT_ID,
//     AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE unless the manifest
//     overrides them.
//   - auto (the default): workload identity when its variables are set, then
//     managed identity (App Service, Arc or Cloud Shell when their variables
//     are set; otherwise IMDS, probed first with a short timeout so that a
//     machine without IMDS fails over in about a second), then a service
//     principal from AZURE_TENANT_ID, AZURE_CLIENT_ID and
//     AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH. The first source
//     that yields a token is kept for the life of the process; when none
//     does, the error lists each source tried and why it failed.
//
// azidentity's own chain stops at an IMDS network error instead of falling
// through, and DefaultAzureCredential tries a service principal before a
// managed identity; the order here is the agent's own.
//
// A Credential is safe for concurrent use. Tokens are cached by azidentity
// (per credential, and process-wide for managed identities), so each
// identity asks for one token per audience.
package credential
