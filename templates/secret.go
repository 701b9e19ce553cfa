package templates

import "time"

// Secret is one fetched Key Vault secret as templates see it.
type Secret struct {
	Name                 string // the manifest's reference name
	Value                string
	Version, ContentType string
	Tags                 map[string]string
	Enabled              bool
	Created, Updated     time.Time
	Expires, NotBefore   *time.Time
}

// Meta is what secretMeta returns: everything about a secret except its value.
type Meta struct {
	Name                 string
	Version, ContentType string
	Tags                 map[string]string
	Enabled              bool
	Created, Updated     time.Time
	Expires, NotBefore   *time.Time
}

// meta returns s without its value.
func (s Secret) meta() Meta {
	return Meta{
		Name:        s.Name,
		Version:     s.Version,
		ContentType: s.ContentType,
		Tags:        s.Tags,
		Enabled:     s.Enabled,
		Created:     s.Created,
		Updated:     s.Updated,
		Expires:     s.Expires,
		NotBefore:   s.NotBefore,
	}
}

// SecretFunc is a template function over one secret, called in a template as
// NAME "secret-name". Register it with [ParseWith]; Execute looks the secret up
// and calls the function with it. Its constant arguments are listed by
// [Template.Secrets]. An error it returns is redacted like any other.
type SecretFunc func(Secret) (any, error)

// SecretPairFunc is a template function over two secrets, called in a
// template as NAME "first" "second" (certPFX "tls" "tls-password"). It is
// registered, listed and redacted like a [SecretFunc].
type SecretPairFunc func(first, second Secret) (any, error)
