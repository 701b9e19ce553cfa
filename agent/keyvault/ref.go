package keyvault

import (
	"net/url"
	"strings"
)

// Ref is one secret reference: a vault, a name and, when pinned, a version.
// Refs are comparable and used as map keys.
type Ref struct {
	VaultURL string // https://NAME.vault.azure.net
	Name     string
	Version  string // "" means the current version
}

// String returns the reference as a Key Vault secret URI. It carries no value.
func (r Ref) String() string {
	s := strings.TrimSuffix(r.VaultURL, "/") + "/secrets/" + r.Name
	if r.Version != "" {
		s += "/" + r.Version
	}
	return s
}

// VaultName returns the first label of the vault's host.
func (r Ref) VaultName() string {
	u, err := url.Parse(r.VaultURL)
	if err != nil {
		return r.VaultURL
	}
	name, _, _ := strings.Cut(u.Hostname(), ".")
	return name
}
