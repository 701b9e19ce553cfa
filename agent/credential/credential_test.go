package credential_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/kv-agent/agent/agent/credential"
	"github.com/kv-agent/agent/agent/emulator"
	"github.com/kv-agent/agent/agent/manifest"
)

const (
	tenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	spClient = "33333333-1111-4333-8333-333333333333"
	spSecret = "sp-secret-VALUE-never-logged"
)

var kvScope = policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}}

func start(t *testing.T, seed string) *emulator.Emulator {
	t.Helper()
	s, err := emulator.ParseSeed("seed.yaml", []byte("tenant: "+tenant+"\n"+seed))
	if err != nil {
		t.Fatal(err)
	}
	e, err := emulator.Start(context.Background(), emulator.Options{Seed: s})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const spSeed = "servicePrincipals:\n  - {name: ci, clientId: " + spClient + ", secret: \"" + spSecret + "\"}\n"

func TestAutoListsEverySourceTried(t *testing.T) {
	t.Parallel()
	e := start(t, "imds: {absent: true}\n")
	c, err := credential.New(&manifest.Identity{Name: "default", Kind: manifest.KindAuto},
		credential.Options{Client: e.Client(), Getenv: env(nil), ProbeTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	_, err = c.GetToken(context.Background(), kvScope)
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("falling through took %s", took)
	}
	var ns *credential.NoSourceError
	if !errors.As(err, &ns) || !credential.IsUnavailable(err) {
		t.Fatalf("err = %v, want an unavailable NoSourceError", err)
	}
	msg := err.Error()
	for _, want := range []string{`identity "default": no credential source worked`, "workload identity: AZURE_FEDERATED_TOKEN_FILE is not set",
		"managed identity (IMDS): no IMDS endpoint answered", "service principal (environment): AZURE_TENANT_ID"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

func TestAutoFallsThroughToServicePrincipal(t *testing.T) {
	t.Parallel()
	e := start(t, "imds: {absent: true}\n"+spSeed)
	c, err := credential.New(&manifest.Identity{Name: "default", Kind: manifest.KindAuto}, credential.Options{
		Client: e.Client(), ProbeTimeout: 300 * time.Millisecond,
		Getenv: env(map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": spClient, "AZURE_CLIENT_SECRET": spSecret}),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent first calls choose the source once and ask for one token.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetToken(context.Background(), kvScope)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.Source() != "service principal (environment)" {
		t.Errorf("source %q", c.Source())
	}
	if n := e.Stats().Kinds["entra-token"]; n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

func TestAutoDeniedIsNotUnavailable(t *testing.T) {
	t.Parallel()
	e := start(t, "imds: {absent: true}\n"+spSeed)
	c, _ := credential.New(&manifest.Identity{Name: "default", Kind: manifest.KindAuto}, credential.Options{
		Client: e.Client(), ProbeTimeout: 300 * time.Millisecond,
		Getenv: env(map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": spClient, "AZURE_CLIENT_SECRET": "wrong-SECRET-5e1"}),
	})
	_, err := c.GetToken(context.Background(), kvScope)
	if err == nil || credential.IsUnavailable(err) || !credential.Denied(err) {
		t.Fatalf("err = %v: want denied, not unavailable", err)
	}
	if !strings.Contains(err.Error(), "AADSTS7000215") || strings.Contains(err.Error(), "wrong-SECRET-5e1") {
		t.Errorf("message %q", err.Error())
	}
}

func TestManagedIdentityFromIMDS(t *testing.T) {
	t.Parallel()
	// The Azure SDK caches managed identity tokens per process by client
	// ID: a fresh user-assigned identity per run makes this one ask IMDS.
	client := randomGUID(t)
	e := start(t, "managedIdentities:\n  userAssigned: [{name: mi, clientId: "+client+", objectId: "+randomGUID(t)+"}]\n")
	c, err := credential.New(&manifest.Identity{Name: "default", Kind: manifest.KindAuto, ClientID: client}, credential.Options{Client: e.Client(), Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.GetToken(context.Background(), kvScope)
	if err != nil || tok.Token == "" {
		t.Fatalf("token: %v", err)
	}
	if c.Source() != "managed identity (IMDS)" {
		t.Errorf("source %q", c.Source())
	}
	if n := e.Stats().Identities["mi"]; n != 1 {
		t.Errorf("IMDS issued %d tokens for the identity, want 1", n)
	}
}

// randomGUID returns a random version 4 GUID.
func randomGUID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("-----BEGIN CERTIFICATE-----\nTOPSECRETBYTES\n-----END CERTIFICATE-----\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	sp := func(mod func(*manifest.Identity)) *manifest.Identity {
		id := &manifest.Identity{Name: "sp", Kind: manifest.KindServicePrincipal, TenantID: tenant, ClientID: spClient}
		mod(id)
		return id
	}
	cases := []struct {
		name string
		id   *manifest.Identity
		want string
	}{
		{"missing secret file", sp(func(i *manifest.Identity) { i.ClientSecretFile = filepath.Join(dir, "nope") }), "read client secret"},
		{"empty secret file", sp(func(i *manifest.Identity) { i.ClientSecretFile = empty }), "is empty"},
		{"unset secret env", sp(func(i *manifest.Identity) { i.ClientSecretEnv = "NOT_SET_ANYWHERE" }), "NOT_SET_ANYWHERE (clientSecretEnv) is not set"},
		{"garbage certificate", sp(func(i *manifest.Identity) { i.CertificateFile = garbage }), "not a usable PEM certificate"},
		{"workload identity without settings", &manifest.Identity{Name: "wi", Kind: manifest.KindWorkloadIdentity}, "workload identity needs clientId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := credential.New(tc.id, credential.Options{Getenv: env(nil)})
			var ce *credential.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a ConfigError containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "TOPSECRETBYTES") {
				t.Errorf("error quotes the file: %v", err)
			}
		})
	}
}
