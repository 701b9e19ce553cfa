package keyvault

import "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

// HostGuard exposes the host guard policy to the external tests.
func HostGuard(suffix, host string) policy.Policy { return hostGuard{suffix: suffix, host: host} }
