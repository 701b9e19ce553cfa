package certs_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/kv-agent/agent/certs"
)

func Example() {
	// A Key Vault-style secret: PEM with the certificates out of order.
	secret, err := certs.Generate(certs.Spec{
		Subject: "www.contoso.com", KeyType: "ECDSA", ChainLength: 3, Format: "pem", Shuffle: true,
	})
	if err != nil {
		panic(err)
	}

	b, err := certs.Parse(secret.Value, secret.ContentType)
	if err != nil {
		panic(err)
	}
	if _, err := b.Check(time.Now(), certs.CheckOptions{NeedKey: true, WarnBefore: 30 * 24 * time.Hour}); err != nil {
		panic(err)
	}
	fmt.Println(b.Subject(), b.DNSNames())
	for _, c := range b.Intermediates {
		fmt.Println("issued by:", c.Subject.CommonName)
	}
	fmt.Println("root:", b.Root.Subject.CommonName)

	for _, part := range certs.Parts() {
		out, err := b.Part(part, "")
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %d certificate(s), key: %t\n", part,
			strings.Count(string(out), "BEGIN CERTIFICATE"), strings.Contains(string(out), "PRIVATE KEY"))
	}
	// Output:
	// CN=www.contoso.com [www.contoso.com]
	// issued by: www.contoso.com Intermediate CA 2
	// issued by: www.contoso.com Intermediate CA 1
	// root: www.contoso.com Root CA
	// key: 0 certificate(s), key: true
	// leaf: 1 certificate(s), key: false
	// chain: 2 certificate(s), key: false
	// fullchain: 4 certificate(s), key: false
	// root: 1 certificate(s), key: false
	// pfx: 0 certificate(s), key: false
}
