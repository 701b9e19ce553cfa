package emulator

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/emulator/kvserver"
	"github.com/kv-agent/agent/agent/internal/syncbuf"
)

// Fixed IDs of the test seed.
const (
	testTenant    = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	sysClientID   = "11111111-1111-1111-1111-111111111111"
	sysObjectID   = "11111111-1111-1111-1111-0000000000aa"
	billClientID  = "22222222-2222-2222-2222-222222222222"
	billObjectID  = "22222222-2222-2222-2222-0000000000bb"
	billResource  = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/billing"
	ciClientID    = "33333333-3333-3333-3333-333333333333"
	ciSecret      = "ci-client-secret-value-9f8e7d"
	certClientID  = "44444444-4444-4444-4444-444444444444"
	wlClientID    = "55555555-5555-5555-5555-555555555555"
	dbPassword    = "s3cr3t-db-password-4b1d"
	wlIssuer      = "https://oidc.prod-aks.azure.com/test-cluster/"
	wlSubject     = "system:serviceaccount:default:app"
	testVaultURL  = "https://contoso.vault.azure.net"
	testVaultHost = "contoso.vault.azure.net"
)

// testCert is a client certificate for ClientCertificateCredential tests.
type testCert struct {
	cert    *x509.Certificate
	certPEM []byte // certificate only (what the seed registers)
	bothPEM []byte // certificate and PKCS#8 key (what the client loads)
}

var (
	certOnce sync.Once
	certs    [2]testCert
)

// testCerts returns two RSA client certificates, generated once per test
// binary (key generation is slow).
func testCerts(t testing.TB) [2]testCert {
	t.Helper()
	certOnce.Do(func() {
		for i := range certs {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(int64(i + 1)),
				Subject:      pkix.Name{CommonName: "emulator test client"},
				NotBefore:    time.Now().Add(-time.Hour),
				NotAfter:     time.Now().Add(24 * time.Hour),
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
			if err != nil {
				panic(err)
			}
			c, _ := x509.ParseCertificate(der)
			pk, _ := x509.MarshalPKCS8PrivateKey(key)
			certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
			keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
			certs[i] = testCert{cert: c, certPEM: certPEM, bothPEM: append(append([]byte{}, certPEM...), keyPEM...)}
		}
	})
	return certs
}

func boolp(b bool) *bool { return &b }

// testSeed is the seed most tests use: a system and a user-assigned
// identity, three service principals, and vault contoso.
func testSeed(t testing.TB) *Seed {
	c := testCerts(t)
	return &Seed{
		Tenant: testTenant,
		ManagedIdentities: ManagedIdentities{
			System:       &ManagedIdentity{ClientID: sysClientID, ObjectID: sysObjectID},
			UserAssigned: []ManagedIdentity{{Name: "billing", ClientID: billClientID, ObjectID: billObjectID, ResourceID: billResource}},
		},
		ServicePrincipals: []ServicePrincipal{
			{Name: "ci", ClientID: ciClientID, Secret: ciSecret},
			{Name: "certsp", ClientID: certClientID, Certificates: []*x509.Certificate{c[0].cert}},
			{Name: "wl", ClientID: wlClientID, Federated: &Federation{Issuer: wlIssuer, Subject: wlSubject}},
		},
		Vaults: []kvserver.Vault{{
			Name: "contoso",
			Secrets: map[string]kvserver.Secret{
				"db-password": {Versions: []kvserver.Version{{Value: dbPassword}}},
				"disabled":    {Versions: []kvserver.Version{{Value: "off", Enabled: boolp(false)}}},
			},
			Access: []kvserver.Access{
				{Identity: "system", Permissions: []string{"get", "list"}},
				{Identity: "billing", Permissions: []string{"get"}},
				{Identity: "ci", Permissions: []string{"get", "list", "set"}},
				{Identity: "certsp", Permissions: []string{"get"}},
				{Identity: "wl", Permissions: []string{"get"}},
			},
		}},
	}
}

// start runs an emulator for the test and closes it at cleanup.
func start(t testing.TB, opts Options) *Emulator {
	t.Helper()
	if opts.Seed == nil {
		opts.Seed = testSeed(t)
	}
	e, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// debugLogger returns a logger writing everything to a buffer.
func debugLogger() (*slog.Logger, *syncbuf.Buffer) {
	var b syncbuf.Buffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

// get performs a request through the emulator's client and returns the
// status, headers and body.
func do(t testing.TB, c *http.Client, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header, body
}

func newRequest(t testing.TB, method, url string, body io.Reader, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
