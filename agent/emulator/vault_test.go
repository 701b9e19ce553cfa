package emulator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/kv-agent/agent/agent/emulator/kvserver"
)

// spClient returns an azsecrets client for vaultURL that authenticates as
// service principal "ci" (or secret) and reaches Azure only through
// e.Client(), in-process. (Managed identity is exercised in child
// processes: MSAL caches its tokens process-wide.)
func spClient(t *testing.T, e *Emulator, vaultURL, secret string, cfg cloud.Configuration) *azsecrets.Client {
	t.Helper()
	opts := azcore.ClientOptions{Transport: e.Client(), Cloud: cfg}
	cred, err := azidentity.NewClientSecretCredential(testTenant, ciClientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	c, err := azsecrets.NewClient(vaultURL, cred, &azsecrets.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSecretsThroughProxy runs azsecrets operations through the proxy and
// the emulator's TLS, with challenge verification and instance discovery
// on: pagers over several pages, set, update, and the error cases.
func TestSecretsThroughProxy(t *testing.T) {
	t.Parallel()
	seed := testSeed(t)
	for i := range 30 {
		seed.Vaults[0].Secrets[fmt.Sprintf("bulk-%02d", i)] = kvserver.Secret{Versions: []kvserver.Version{{Value: "v"}}}
	}
	seed.Vaults = append(seed.Vaults, kvserver.Vault{Name: "locked", Secrets: map[string]kvserver.Secret{"x": {Versions: []kvserver.Version{{Value: "y"}}}}})
	e := start(t, Options{Seed: seed})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := spClient(t, e, testVaultURL, ciSecret, cloud.AzurePublic)

	names := 0
	for pager, pages := c.NewListSecretPropertiesPager(nil), 0; pager.More(); pages++ {
		if pages > 5 {
			t.Fatal("list: more than 5 pages for 32 secrets (nextLink loops?)")
		}
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		names += len(page.Value)
	}
	if names != 32 {
		t.Errorf("listed %d secrets, want 32", names)
	}
	for i := range 27 {
		if _, err := c.SetSecret(ctx, "rotating", azsecrets.SetSecretParameters{Value: toPtr(fmt.Sprint("r", i))}, nil); err != nil {
			t.Fatalf("set: %v", err)
		}
	}
	versions := 0
	for pager, pages := c.NewListSecretPropertiesVersionsPager("rotating", nil), 0; pager.More(); pages++ {
		if pages > 5 {
			t.Fatal("versions: more than 5 pages for 27 versions (nextLink loops?)")
		}
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("versions: %v", err)
		}
		versions += len(page.Value)
	}
	if versions != 27 {
		t.Errorf("listed %d versions, want 27", versions)
	}
	got, err := c.GetSecret(ctx, "rotating", "", nil)
	if err != nil || *got.Value != "r26" {
		t.Fatalf("get after set: %v", err)
	}
	if _, err := c.UpdateSecretProperties(ctx, "rotating", got.ID.Version(),
		azsecrets.UpdateSecretPropertiesParameters{SecretAttributes: &azsecrets.SecretAttributes{Enabled: toPtr(false)}}, nil); err != nil {
		t.Fatalf("update: %v", err)
	}
	assertCode(t, c, "rotating", 403, "Forbidden", "SecretDisabled")
	assertCode(t, c, "missing", 404, "SecretNotFound", "")

	locked := spClient(t, e, "https://locked.vault.azure.net", ciSecret, cloud.AzurePublic)
	assertCode(t, locked, "x", 403, "Forbidden", "ForbiddenByRbac")

	st := e.Stats()
	if st.Kinds["challenge"] != 2 || st.Kinds[KindEntraDiscovery] == 0 || st.Kinds[KindEntraOIDC] == 0 {
		t.Errorf("want one challenge per client and real discovery; kinds %v", st.Kinds)
	}

	unknown := spClient(t, e, "https://nosuch.vault.azure.net", ciSecret, cloud.AzurePublic)
	assertCode(t, unknown, "x", 404, "VaultNotFound", "")
}

func TestSovereignCloudThroughProxy(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	c := spClient(t, e, "https://contoso.vault.azure.cn", ciSecret, cloud.AzureChina)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := c.GetSecret(ctx, "db-password", "", nil)
	if err != nil || *got.Value != dbPassword {
		t.Fatalf("China cloud get: %v", err)
	}
}

func assertCode(t *testing.T, c *azsecrets.Client, name string, status int, code, inner string) {
	t.Helper()
	_, err := c.GetSecret(context.Background(), name, "", nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("get %s: %v, want a ResponseError", name, err)
	}
	if re.StatusCode != status || re.ErrorCode != code || !strings.Contains(err.Error(), inner) {
		t.Errorf("get %s: %d %s, want %d %s (%s)", name, re.StatusCode, re.ErrorCode, status, code, inner)
	}
}

func toPtr[T any](v T) *T { return &v }
