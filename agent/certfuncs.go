package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"text/template"
	"time"

	"github.com/kv-agent/agent/agent/manifest"
	"github.com/kv-agent/agent/certs"
	"github.com/kv-agent/agent/templates"
)

// certChecker parses and checks certificate-backed secrets for templates
// and the file shorthand.
type certChecker struct {
	m   *manifest.Manifest
	now func() time.Time
	log *slog.Logger // expiry warnings; nil until the plan runs
}

// bundle parses the secret and checks it: key matches leaf, key present
// when needed, not expired (unless the reference allows it), not before
// its validity. Errors name the secret and never quote key material.
func (c *certChecker) bundle(s templates.Secret, needKey bool) (*certs.Bundle, error) {
	b, err := certs.Parse(s.Value, s.ContentType)
	if err != nil {
		return nil, fmt.Errorf("secret %q is not a usable certificate: %w", s.Name, err)
	}
	allowExpired, warnBefore := false, manifest.DefaultWarnBefore
	if ref, ok := c.m.Secrets[s.Name]; ok {
		allowExpired, warnBefore = ref.AllowExpired, ref.WarnBefore
	}
	warnings, err := b.Check(c.now(), certs.CheckOptions{NeedKey: needKey, AllowExpired: allowExpired, WarnBefore: warnBefore})
	if err != nil {
		if errors.Is(err, certs.ErrNoPrivateKey) {
			return nil, fmt.Errorf("certificate %q: %w (its Key Vault policy must mark the key exportable)", s.Name, err)
		}
		return nil, fmt.Errorf("certificate %q: %w", s.Name, err)
	}
	for _, w := range warnings {
		if c.log != nil {
			c.log.Warn("certificate expiring", "secret", s.Name, "subject", b.Subject(), "warning", w)
		}
	}
	return b, nil
}

// funcs returns the template functions over certificate-backed secrets:
// cert NAME (a view with KeyPEM, LeafPEM, ChainPEM, FullChainPEM, RootPEM,
// PFX, NotAfter, NotBefore, Subject, DNSNames, Thumbprint) and
// certPFX NAME PASSWORD_SECRET (PKCS#12 encrypted with that secret's value).
func (c *certChecker) funcs() template.FuncMap {
	return template.FuncMap{
		"cert": templates.SecretFunc(func(s templates.Secret) (any, error) {
			b, err := c.bundle(s, false)
			if err != nil {
				return nil, err
			}
			return &certView{name: s.Name, b: b}, nil
		}),
		"certPFX": templates.SecretPairFunc(func(s, password templates.Secret) (any, error) {
			b, err := c.bundle(s, true)
			if err != nil {
				return nil, err
			}
			p, err := b.PFX(password.Value)
			if err != nil {
				return nil, fmt.Errorf("certificate %q: %w", s.Name, err)
			}
			return string(p), nil
		}),
	}
}

// certView is what `cert NAME` gives a template.
type certView struct {
	name string
	b    *certs.Bundle
}

// KeyPEM is the private key as PKCS#8 PEM.
func (v *certView) KeyPEM() (string, error) {
	k, err := v.b.KeyPEM()
	if err != nil {
		return "", templates.SafeError(fmt.Errorf("certificate %q: %w (its Key Vault policy must mark the key exportable)", v.name, err))
	}
	return string(k), nil
}

// LeafPEM is the leaf certificate.
func (v *certView) LeafPEM() string { return string(v.b.LeafPEM()) }

// ChainPEM is the intermediates, the leaf's issuer first.
func (v *certView) ChainPEM() string { return string(v.b.ChainPEM()) }

// FullChainPEM is the leaf, the intermediates in issuer order, then the root.
func (v *certView) FullChainPEM() string { return string(v.b.FullChainPEM()) }

// RootPEM is the self-signed root, or "".
func (v *certView) RootPEM() string { return string(v.b.RootPEM()) }

// PFX is the key and chain re-encoded as PKCS#12 with an empty password.
func (v *certView) PFX() (string, error) {
	p, err := v.b.PFX("")
	if err != nil {
		return "", templates.SafeError(fmt.Errorf("certificate %q: %w", v.name, err))
	}
	return string(p), nil
}

// NotAfter is the end of the leaf's validity.
func (v *certView) NotAfter() time.Time { return v.b.NotAfter() }

// NotBefore is the start of the leaf's validity.
func (v *certView) NotBefore() time.Time { return v.b.NotBefore() }

// Subject is the leaf's subject, e.g. "CN=www.contoso.com".
func (v *certView) Subject() string { return v.b.Subject() }

// DNSNames are the leaf's DNS subject alternative names.
func (v *certView) DNSNames() []string { return v.b.DNSNames() }

// Thumbprint is the leaf's SHA-1 thumbprint in upper-case hex.
func (v *certView) Thumbprint() string { return v.b.Thumbprint() }

// certPart renders a file's {cert, part} shorthand.
func (c *certChecker) part(f *manifest.File, secrets map[string]templates.Secret) ([]byte, error) {
	s, ok := secrets[f.Cert]
	if !ok {
		return nil, fmt.Errorf("secret %q is not defined", f.Cert)
	}
	needKey := f.Part == certs.PartKey || f.Part == certs.PartPFX
	b, err := c.bundle(s, needKey)
	if err != nil {
		return nil, err
	}
	password := ""
	if f.Password != "" {
		pw, ok := secrets[f.Password]
		if !ok {
			return nil, fmt.Errorf("secret %q is not defined", f.Password)
		}
		password = pw.Value
	}
	out, err := b.Part(f.Part, password)
	if err != nil {
		return nil, fmt.Errorf("certificate %q part %s: %w", f.Cert, f.Part, err)
	}
	return out, nil
}
