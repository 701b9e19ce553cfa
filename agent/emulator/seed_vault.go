package emulator

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kv-agent/agent/agent/emulator/kvserver"
	"github.com/kv-agent/agent/agent/kvname"
)

// Permissions an access rule may grant ("set" also allows updating
// attributes).
var permissions = []string{"get", "list", "set"}

// Fault kinds a vault may inject.
var faultKinds = []string{"500", "503", "429", "reset"}

func (d *decoder) vaults(n *yaml.Node, field string) []kvserver.Vault {
	var out []kvserver.Vault
	seen := map[string]string{}
	d.mapping(n, field, nil, func(key, path string, k, v *yaml.Node) {
		if !isVaultName(key) {
			d.errorf(k, path, "%q is not a valid vault name (3-24 letters, digits and hyphens, starting with a letter)", key)
			return
		}
		lower := strings.ToLower(key)
		if first, dup := seen[lower]; dup {
			d.errorf(k, path, "duplicate vault name (same host as %q)", first)
			return
		}
		seen[lower] = key
		vault := kvserver.Vault{Name: lower, Secrets: map[string]kvserver.Secret{}}
		if isNull(v) {
			out = append(out, vault)
			return
		}
		known := []string{"secrets", "certificates", "access", "limit", "faults"}
		var certNode *yaml.Node
		var certPath string
		d.mapping(v, path, known, func(key, path string, _, v *yaml.Node) {
			switch key {
			case "secrets":
				if !isNull(v) {
					vault.Secrets = d.secrets(v, path)
				}
			case "access":
				d.sequence(v, path, func(_ int, path string, item *yaml.Node) {
					if a, ok := d.access(item, path); ok {
						vault.Access = append(vault.Access, a)
					}
				})
			case "limit":
				d.mapping(v, path, []string{"requests", "retryAfter"}, func(key, path string, _, v *yaml.Node) {
					if key == "requests" {
						vault.Limit.Requests, _ = d.integer(v, path, 0)
					} else {
						vault.Limit.RetryAfter, _ = d.duration(v, path)
					}
				})
			case "faults":
				vault.Faults = d.faults(v, path)
			case "certificates":
				certNode, certPath = v, path
			}
		})
		if certNode != nil && !isNull(certNode) {
			d.certificates(lower, certNode, certPath, vault.Secrets)
		}
		out = append(out, vault)
	})
	return out
}

func (d *decoder) secrets(n *yaml.Node, field string) map[string]kvserver.Secret {
	out := map[string]kvserver.Secret{}
	d.mapping(n, field, nil, func(name, path string, k, v *yaml.Node) {
		if !kvname.Secret(name) {
			d.errorf(k, path, "%q is not a valid secret name (1-127 letters, digits and hyphens)", name)
			return
		}
		switch {
		case v.Kind == yaml.ScalarNode && !isNull(v):
			out[name] = kvserver.Secret{Versions: []kvserver.Version{{Value: v.Value}}}
		case v.Kind == yaml.MappingNode && hasKey(v, "versions"):
			var sec kvserver.Secret
			d.mapping(v, path, []string{"versions"}, func(_, path string, _, v *yaml.Node) {
				d.sequence(v, path, func(_ int, path string, item *yaml.Node) {
					if ver, ok := d.version(item, path); ok {
						sec.Versions = append(sec.Versions, ver)
					}
				})
			})
			if len(sec.Versions) == 0 {
				d.errorf(v, path+".versions", "needs at least one version")
				return
			}
			out[name] = sec
		case v.Kind == yaml.MappingNode:
			if ver, ok := d.version(v, path); ok {
				out[name] = kvserver.Secret{Versions: []kvserver.Version{ver}}
			}
		default:
			d.errorf(v, path, "must be a value, a version mapping or {versions: [...]}, not %s", kindName(v))
		}
	})
	return out
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (d *decoder) version(n *yaml.Node, field string) (kvserver.Version, bool) {
	var ver kvserver.Version
	hasValue := false
	known := []string{"value", "contentType", "tags", "enabled", "expires", "notBefore"}
	ok := d.mapping(n, field, known, func(key, path string, _, v *yaml.Node) {
		switch key {
		case "value":
			hasValue = true
			ver.Value, _ = d.str(v, path)
		case "contentType":
			ver.ContentType, _ = d.str(v, path)
		case "tags":
			ver.Tags = d.stringMap(v, path)
		case "enabled":
			if b, ok := d.boolean(v, path); ok {
				ver.Enabled = &b
			}
		case "expires":
			ver.Expires, _ = d.timestamp(v, path)
		case "notBefore":
			ver.NotBefore, _ = d.timestamp(v, path)
		}
	})
	if !ok {
		return ver, false
	}
	if !hasValue {
		d.errorf(n, field, "value is required")
		return ver, false
	}
	return ver, true
}

func (d *decoder) access(n *yaml.Node, field string) (kvserver.Access, bool) {
	var a kvserver.Access
	var idNode *yaml.Node
	var idPath string
	ok := d.mapping(n, field, []string{"identity", "permissions"}, func(key, path string, _, v *yaml.Node) {
		if key == "identity" {
			a.Identity, _ = d.str(v, path)
			idNode, idPath = v, path
			return
		}
		d.sequence(v, path, func(_ int, path string, item *yaml.Node) {
			p, ok := d.str(item, path)
			if !ok {
				return
			}
			if !contains(permissions, p) {
				d.errorf(item, path, "unknown permission %q (known: %s)", p, strings.Join(permissions, ", "))
				return
			}
			a.Permissions = append(a.Permissions, p)
		})
	})
	if !ok {
		return a, false
	}
	if idNode == nil {
		d.errorf(n, field, "identity is required")
		return a, false
	}
	d.accessRefs = append(d.accessRefs, nodeRef{name: a.Identity, node: idNode, path: idPath})
	return a, true
}

func (d *decoder) faults(n *yaml.Node, field string) kvserver.Faults {
	var f kvserver.Faults
	d.mapping(n, field, []string{"rate", "kinds"}, func(key, path string, _, v *yaml.Node) {
		if key == "rate" {
			f.Rate, _ = d.fraction(v, path)
			return
		}
		d.sequence(v, path, func(_ int, path string, item *yaml.Node) {
			k, ok := d.str(item, path)
			if !ok {
				return
			}
			if !contains(faultKinds, k) {
				d.errorf(item, path, "unknown fault kind %q (known: %s)", k, strings.Join(faultKinds, ", "))
				return
			}
			f.Kinds = append(f.Kinds, k)
		})
	})
	return f
}
