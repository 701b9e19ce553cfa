package emulator

import (
	"strings"
	"testing"

	certgen "github.com/kv-agent/agent/certs"
)

func TestSeedCertificates(t *testing.T) {
	t.Parallel()
	s, err := ParseSeed("seed.yaml", []byte(`
vaults:
  contoso:
    secrets:
      plain: v
    certificates:
      web: {subject: www.contoso.com, dnsNames: [www.contoso.com, contoso.com], keyType: ECDSA, chainLength: 3, format: pem, shuffle: true}
      hsm: {keyType: ECDSA, exportable: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	secrets := s.Vaults[0].Secrets
	web := secrets["web"].Versions[0]
	if web.ContentType != "application/x-pem-file" || !web.Managed || !strings.Contains(web.KeyID, "contoso.vault.azure.net/keys/web/") {
		t.Errorf("web: contentType %q managed %v kid %q", web.ContentType, web.Managed, web.KeyID)
	}
	b, err := certgen.Parse(web.Value, web.ContentType)
	if err != nil {
		t.Fatal(err)
	}
	if b.Subject() != "CN=www.contoso.com" || len(b.Intermediates) != 2 || b.Root == nil || b.Key == nil {
		t.Errorf("web bundle: subject %q, %d intermediates, root %v, key %v", b.Subject(), len(b.Intermediates), b.Root != nil, b.Key != nil)
	}
	if web.Expires == nil || !web.Expires.Equal(b.NotAfter()) {
		t.Errorf("the secret's exp %v is not the certificate's expiry %v", web.Expires, b.NotAfter())
	}
	hsm := secrets["hsm"].Versions[0]
	if hsm.ContentType != "application/x-pkcs12" {
		t.Errorf("hsm content type %q", hsm.ContentType)
	}
	if b, err := certgen.Parse(hsm.Value, hsm.ContentType); err != nil || b.Key != nil {
		t.Errorf("a non-exportable certificate's secret holds a key (err %v)", err)
	}
}

func TestSeedCertificateErrors(t *testing.T) {
	t.Parallel()
	_, err := ParseSeed("seed.yaml", []byte(`
vaults:
  contoso:
    secrets:
      web: v
    certificates:
      web: {}
      bad: {keyType: DSA, format: der, chainLength: 0, colour: blue}
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`seed.yaml:7:7: vaults.contoso.certificates.web: a secret named "web" already exists`,
		"seed.yaml:8:22: vaults.contoso.certificates.bad.keyType: must be RSA or ECDSA",
		"vaults.contoso.certificates.bad.format: must be pfx or pem",
		"vaults.contoso.certificates.bad.chainLength",
		"vaults.contoso.certificates.bad.colour: unknown key",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
