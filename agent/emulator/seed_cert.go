package emulator

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kv-agent/agent/agent/emulator/kvserver"
	"github.com/kv-agent/agent/agent/kvname"
	certgen "github.com/kv-agent/agent/certs"
)

// certificates decodes a vault's certificates: each is generated (a CA
// chain and a leaf) and served, as Key Vault does, as the secret of the
// same name: base64 PFX with an empty password or PEM, "managed": true, a
// kid naming the certificate's key, and exp/nbf set to the leaf's validity.
//
//	certificates:
//	  web-tls:
//	    subject: www.contoso.com       # CN; default the name
//	    dnsNames: [www.contoso.com]    # default [subject]
//	    keyType: RSA                   # RSA (2048) or ECDSA (P-256)
//	    chainLength: 2                 # CAs above the leaf: 1 = root only
//	    format: pfx                    # pfx (application/x-pkcs12) or pem (application/x-pem-file)
//	    exportable: true               # false: the secret holds no private key
//	    shuffle: false                 # pem: certificates in scrambled order
//	    notBefore: 2026-01-01T00:00:00Z  # default an hour ago
//	    notAfter: 2027-01-01T00:00:00Z   # default validFor from now
//	    validFor: 8760h                  # default one year
func (d *decoder) certificates(vault string, n *yaml.Node, field string, into map[string]kvserver.Secret) {
	known := []string{"subject", "dnsNames", "keyType", "chainLength", "format", "exportable", "shuffle", "notBefore", "notAfter", "validFor"}
	d.mapping(n, field, nil, func(name, path string, k, v *yaml.Node) {
		if !kvname.Secret(name) {
			d.errorf(k, path, "%q is not a valid certificate name (1-127 letters, digits and hyphens)", name)
			return
		}
		if _, dup := into[name]; dup {
			d.errorf(k, path, "a secret named %q already exists in this vault", name)
			return
		}
		spec := certgen.Spec{Subject: name, ChainLength: 2}
		exportable := true
		var validFor time.Duration
		ok := d.mapping(v, path, known, func(key, path string, _, v *yaml.Node) {
			switch key {
			case "subject":
				spec.Subject, _ = d.str(v, path)
			case "dnsNames":
				d.sequence(v, path, func(_ int, path string, item *yaml.Node) {
					if s, ok := d.str(item, path); ok {
						spec.DNSNames = append(spec.DNSNames, s)
					}
				})
			case "keyType":
				s, _ := d.str(v, path)
				switch strings.ToUpper(s) {
				case "RSA", "ECDSA":
					spec.KeyType = strings.ToUpper(s)
				default:
					d.errorf(v, path, "must be RSA or ECDSA")
				}
			case "chainLength":
				spec.ChainLength, _ = d.integer(v, path, 1)
			case "format":
				s, _ := d.str(v, path)
				if s != "pfx" && s != "pem" {
					d.errorf(v, path, "must be pfx or pem")
				}
				spec.Format = s
			case "exportable":
				exportable, _ = d.boolean(v, path)
			case "shuffle":
				spec.Shuffle, _ = d.boolean(v, path)
			case "notBefore":
				if t, ok := d.timestamp(v, path); ok {
					spec.NotBefore = *t
				}
			case "notAfter":
				if t, ok := d.timestamp(v, path); ok {
					spec.NotAfter = *t
				}
			case "validFor":
				validFor, _ = d.duration(v, path)
			}
		})
		if !ok {
			return
		}
		spec.NoKey = !exportable
		if spec.NotAfter.IsZero() && validFor > 0 {
			spec.NotAfter = time.Now().Add(validFor)
		}
		gen, err := certgen.Generate(spec)
		if err != nil {
			d.errorf(v, path, "cannot generate the certificate: %v", err)
			return
		}
		nb, na := gen.Bundle.NotBefore(), gen.Bundle.NotAfter()
		into[name] = kvserver.Secret{Versions: []kvserver.Version{{
			Value:       gen.Value,
			ContentType: gen.ContentType,
			Managed:     true,
			KeyID:       fmt.Sprintf("https://%s.vault.azure.net/keys/%s/%s", vault, name, kvserver.VersionID(vault, name, 0)),
			NotBefore:   &nb,
			Expires:     &na,
		}}}
	})
}
