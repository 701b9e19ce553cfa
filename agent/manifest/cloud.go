package manifest

import (
	"net"
	"net/url"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Names of the well-known clouds, the string values of the "cloud" key.
const (
	CloudPublic           = "AzurePublic"
	CloudChina            = "AzureChina"
	CloudUSGovernment     = "AzureUSGovernment"
	CloudCustom           = "Custom" // Cloud.Name of a cloud given as a mapping
	defaultKeyVaultSuffix = "vault.azure.net"
)

// knownClouds returns the well-known clouds by name (AZURE.md §3.7).
func knownClouds() map[string]Cloud {
	return map[string]Cloud{
		CloudPublic:       {Name: CloudPublic, KeyVaultSuffix: defaultKeyVaultSuffix, AuthorityHost: "https://login.microsoftonline.com"},
		CloudChina:        {Name: CloudChina, KeyVaultSuffix: "vault.azure.cn", AuthorityHost: "https://login.chinacloudapi.cn"},
		CloudUSGovernment: {Name: CloudUSGovernment, KeyVaultSuffix: "vault.usgovcloudapi.net", AuthorityHost: "https://login.microsoftonline.us"},
	}
}

// dnsName matches a lower-case DNS name with at least two labels.
var dnsName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// cloud decodes the "cloud" key: a well-known cloud name or a custom
// {keyVaultSuffix, authorityHost} mapping. When the value is invalid the
// Cloud is left empty, and vault URLs are not checked against it.
func (p *parser) cloud(top *object) {
	e, ok := top.fields["cloud"]
	if !ok {
		p.m.Cloud = knownClouds()[CloudPublic]
		return
	}
	n := deref(e.val)
	if n.Kind == yaml.MappingNode {
		p.customCloud(n)
		return
	}
	name, ok := p.str(n, "cloud")
	if !ok {
		return
	}
	clouds := knownClouds()
	c, ok := clouds[name]
	if !ok {
		names := make([]string, 0, len(clouds))
		for k := range clouds {
			names = append(names, k)
		}
		p.errorf(n, "cloud", "unknown cloud %q (use AzurePublic, AzureChina, AzureUSGovernment or a mapping with keyVaultSuffix and authorityHost)%s", name, didYouMean(name, names))
		return
	}
	p.m.Cloud = c
}

// customCloud decodes {keyVaultSuffix: vault.example.net, authorityHost: https://login.example.net}.
func (p *parser) customCloud(n *yaml.Node) {
	o, ok := p.object(n, "cloud", "keyVaultSuffix", "authorityHost")
	if !ok {
		return
	}
	c := Cloud{Name: CloudCustom}
	good := true
	if s, ok := o.requiredStr("keyVaultSuffix"); ok {
		s = strings.ToLower(strings.TrimPrefix(s, "."))
		if !dnsName.MatchString(s) {
			p.errorAt(o.pos("keyVaultSuffix"), o.field("keyVaultSuffix"), "%q is not a DNS suffix such as \"vault.azure.net\" (no scheme, no path)", s)
			good = false
		}
		c.KeyVaultSuffix = s
	} else {
		good = false
	}
	if s, ok := o.requiredStr("authorityHost"); ok {
		host, err := httpsHost(s, true)
		if err != "" {
			p.errorAt(o.pos("authorityHost"), o.field("authorityHost"), "%q %s", s, err)
			good = false
		}
		c.AuthorityHost = "https://" + host
	} else {
		good = false
	}
	if good {
		p.m.Cloud = c
	}
}

// httpsHost checks that raw is "https://host[:port][/]" with an ASCII host
// and returns the host in lower case, or a problem description. Port 443 is dropped; other ports
// are kept when allowPort is set and refused otherwise.
func httpsHost(raw string, allowPort bool) (string, string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", "is not a URL such as \"https://host\""
	}
	if u.Scheme != "https" {
		return "", "must use https"
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", "must be just https://host, without path, query or credentials"
	}
	host := u.Hostname()
	for i := 0; i < len(host); i++ {
		// Lower-casing some non-ASCII letters yields ASCII ones (the
		// Kelvin sign becomes "k"): such a host would silently name another.
		if host[i] >= 0x80 {
			return "", "must name an ASCII host (Azure's hosts are)"
		}
	}
	host = strings.ToLower(host)
	switch port := u.Port(); {
	case port == "" || port == "443":
	case allowPort:
		host = net.JoinHostPort(host, port)
	default:
		return "", "must not name a port"
	}
	return host, ""
}
