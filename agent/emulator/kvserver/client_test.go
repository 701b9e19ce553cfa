package kvserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const contosoURL = "https://contoso.vault.azure.net"

func TestClientGetSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cred := &testCred{caller: "reader"}
	c := e.client(t, contosoURL, cred)
	ctx := context.Background()

	tests := []struct {
		name, secret, version, want string
	}{
		{"latest", "db-password", "", "hunter2-current"},
		{"latest name is case-insensitive", "DB-Password", "", "hunter2-current"},
		{"old version by id", "db-password", versionID("contoso", "db-password", 0), "hunter1-old"},
		{"current version by id", "db-password", versionID("contoso", "db-password", 1), "hunter2-current"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.GetSecret(ctx, tt.secret, tt.version, nil)
			require.NoError(t, err)
			require.NotNil(t, resp.Value)
			assert.Equal(t, tt.want, *resp.Value)
			assert.Equal(t, "db-password", resp.ID.Name())
			assert.Regexp(t, `^[0-9a-f]{32}$`, resp.ID.Version())
			assert.Equal(t, contosoURL+"/secrets/db-password/"+resp.ID.Version(), string(*resp.ID))
			require.NotNil(t, resp.Attributes.Enabled)
			assert.True(t, *resp.Attributes.Enabled)
			assert.Equal(t, "CustomizedRecoverable+Purgeable", string(*resp.Attributes.RecoveryLevel))
		})
	}

	resp, err := c.GetSecret(ctx, "db-password", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "text/plain", *resp.ContentType)
	assert.Equal(t, map[string]*string{"team": to.Ptr("pay")}, resp.Tags)
	assert.Equal(t, testBase.Add(24*3600e9).Unix(), resp.Attributes.Expires.Unix())
	assert.Equal(t, testBase.Add(-3600e9).Unix(), resp.Attributes.Created.Unix())
	assert.Nil(t, resp.Managed)

	cert, err := c.GetSecret(ctx, "web-tls", "", nil)
	require.NoError(t, err)
	require.NotNil(t, cert.Managed)
	assert.True(t, *cert.Managed)
	assert.Equal(t, "https://contoso.vault.azure.net/keys/web-tls/0123456789abcdef0123456789abcdef", string(*cert.KID))

	assert.Equal(t, []string{"https://vault.azure.net/.default"}, cred.Scopes(), "one token, for the Key Vault scope")
	assert.Equal(t, 1, e.obs.count("challenge"), "one challenge per client")
	assert.Equal(t, len(tests)+2, e.obs.count("get"))
}

func TestClientPagers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(cfg *Config) {
		many := cfg.Vaults[0].Secrets
		for i := range 30 {
			many[fmt.Sprintf("bulk-%02d", i)] = Secret{Versions: []Version{{Value: "bulk-value"}}}
		}
		var vs []Version
		for i := range 31 {
			vs = append(vs, Version{Value: fmt.Sprintf("rotated-%d", i)})
		}
		many["rotated"] = Secret{Versions: vs}
	})
	c := e.client(t, contosoURL, &testCred{caller: "reader"})
	ctx := context.Background()

	var names []string
	pages := 0
	for p := c.NewListSecretPropertiesPager(nil); p.More(); {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		pages++
		assert.LessOrEqual(t, len(page.Value), 25)
		for _, s := range page.Value {
			names = append(names, s.ID.Name())
			assert.Empty(t, s.ID.Version(), "list ids name the secret, not a version")
		}
	}
	assert.Equal(t, 2, pages)
	assert.Len(t, names, 34, "30 bulk + db-password, off, rotated, web-tls")
	assert.IsIncreasing(t, names)
	assert.Contains(t, names, "off", "disabled secrets are listed")
	assert.Equal(t, 2, e.obs.count("list"))

	seen := map[string]bool{}
	pages = 0
	for p := c.NewListSecretPropertiesVersionsPager("rotated", nil); p.More(); {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, s := range page.Value {
			assert.Equal(t, "rotated", s.ID.Name())
			seen[s.ID.Version()] = true
		}
	}
	assert.Equal(t, 2, pages)
	assert.Len(t, seen, 31)
	for i := range 31 {
		assert.True(t, seen[versionID("contoso", "rotated", i)], "version %d listed", i)
	}
}

func TestClientSetThenGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client(t, contosoURL, &testCred{caller: "writer"})
	ctx := context.Background()

	set, err := c.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{
		Value: to.Ptr("hunter3-new"), ContentType: to.Ptr("text/plain"),
		Tags: map[string]*string{"rotated": to.Ptr("yes")},
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, "hunter3-new", *set.Value)
	assert.Equal(t, testBase.Unix(), set.Attributes.Created.Unix())

	got, err := c.GetSecret(ctx, "db-password", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "hunter3-new", *got.Value)
	assert.Equal(t, set.ID.Version(), got.ID.Version())
	assert.Equal(t, map[string]*string{"rotated": to.Ptr("yes")}, got.Tags)

	old, err := c.GetSecret(ctx, "db-password", versionID("contoso", "db-password", 1), nil)
	require.NoError(t, err)
	assert.Equal(t, "hunter2-current", *old.Value, "previous versions stay readable")

	created, err := c.SetSecret(ctx, "brand-new", azsecrets.SetSecretParameters{Value: to.Ptr("fresh")}, nil)
	require.NoError(t, err)
	assert.Equal(t, "brand-new", created.ID.Name())
	n := 0
	for p := c.NewListSecretPropertiesVersionsPager("db-password", nil); p.More(); {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		n += len(page.Value)
	}
	assert.Equal(t, 3, n)
}

func TestClientUpdateDisable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client(t, contosoURL, &testCred{caller: "writer"})
	ctx := context.Background()

	e.clock.Add(90e9)
	upd, err := c.UpdateSecretProperties(ctx, "db-password", "", azsecrets.UpdateSecretPropertiesParameters{
		SecretAttributes: &azsecrets.SecretAttributes{Enabled: to.Ptr(false)},
		Tags:             map[string]*string{"state": to.Ptr("off")},
	}, nil)
	require.NoError(t, err)
	assert.Nil(t, upd.Value, "update answers without the value")
	assert.False(t, *upd.Attributes.Enabled)
	assert.Equal(t, testBase.Add(90e9).Unix(), upd.Attributes.Updated.Unix())
	assert.Equal(t, "text/plain", *upd.ContentType, "unchanged fields stay")

	_, err = c.GetSecret(ctx, "db-password", "", nil)
	respErr := requireResponseError(t, err, 403)
	// Key Vault puts SecretDisabled in innererror; azcore's ErrorCode is the outer code.
	assert.Equal(t, "Forbidden", respErr.ErrorCode)
	assert.Equal(t, "SecretDisabled", innerCode(t, respErr))

	old, err := c.GetSecret(ctx, "db-password", versionID("contoso", "db-password", 0), nil)
	require.NoError(t, err, "other versions are still enabled")
	assert.Equal(t, "hunter1-old", *old.Value)

	_, err = c.UpdateSecretProperties(ctx, "db-password", upd.ID.Version(), azsecrets.UpdateSecretPropertiesParameters{
		SecretAttributes: &azsecrets.SecretAttributes{Enabled: to.Ptr(true)},
	}, nil)
	require.NoError(t, err)
	got, err := c.GetSecret(ctx, "db-password", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "hunter2-current", *got.Value)
	assert.Equal(t, map[string]*string{"state": to.Ptr("off")}, got.Tags)
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	reader := e.client(t, contosoURL, &testCred{caller: "reader"})
	nobody := e.client(t, contosoURL, &testCred{caller: "nobody"})

	t.Run("not found", func(t *testing.T) {
		_, err := reader.GetSecret(ctx, "missing", "", nil)
		respErr := requireResponseError(t, err, 404)
		assert.Equal(t, "SecretNotFound", respErr.ErrorCode)
		_, err = reader.GetSecret(ctx, "db-password", "0123456789abcdef0123456789abcdef", nil)
		requireResponseError(t, err, 404)
	})
	t.Run("no rights", func(t *testing.T) {
		_, err := nobody.GetSecret(ctx, "db-password", "", nil)
		respErr := requireResponseError(t, err, 403)
		assert.Equal(t, "Forbidden", respErr.ErrorCode)
		b := decodeErrorBody(t, respErr.RawResponse.Body)
		require.NotNil(t, b.Error.InnerError)
		assert.Equal(t, "ForbiddenByRbac", b.Error.InnerError.Code)
		msg := b.Error.Message
		assert.Contains(t, msg, "Caller: appid=11111111-0000-0000-0000-000000000003;oid=22222222-0000-0000-0000-000000000003;")
		assert.Contains(t, msg, "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'")
	})
	t.Run("reader cannot set", func(t *testing.T) {
		_, err := reader.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr("x")}, nil)
		respErr := requireResponseError(t, err, 403)
		assert.Contains(t, errorMessage(t, respErr), "secrets/setSecret/action")
	})
	t.Run("nobody cannot list", func(t *testing.T) {
		_, err := nobody.NewListSecretPropertiesPager(nil).NextPage(ctx)
		respErr := requireResponseError(t, err, 403)
		assert.Contains(t, errorMessage(t, respErr), "secrets/readMetadata/action")
	})
}

func TestClientFaultReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(cfg *Config) {
		cfg.Vaults[0].Faults = Faults{Rate: 1, Kinds: []string{"reset"}}
	})
	c := e.client(t, contosoURL, &testCred{caller: "reader"})
	_, err := c.GetSecret(context.Background(), "db-password", "", nil)
	require.Error(t, err)
	var respErr *azcore.ResponseError
	assert.False(t, errors.As(err, &respErr), "a reset is a transport error, not an HTTP answer: %v", err)
	assert.Equal(t, 1, e.obs.count("challenge"), "the challenge is never faulted")
}

func TestClientSovereignSuffix(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cred := &testCred{caller: "reader"}
	c := e.client(t, "https://contoso.vault.azure.cn", cred)
	resp, err := c.GetSecret(context.Background(), "db-password", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "hunter2-current", *resp.Value)
	assert.Equal(t, "https://contoso.vault.azure.cn/secrets/db-password/"+resp.ID.Version(), string(*resp.ID))
	assert.Equal(t, []string{"https://vault.azure.cn/.default"}, cred.Scopes())
}

func requireResponseError(t *testing.T, err error, status int) *azcore.ResponseError {
	t.Helper()
	var respErr *azcore.ResponseError
	require.True(t, errors.As(err, &respErr), "want *azcore.ResponseError, got %v", err)
	require.Equal(t, status, respErr.StatusCode)
	return respErr
}

type errorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError *struct {
			Code string `json:"code"`
		} `json:"innererror"`
	} `json:"error"`
}

func decodeErrorBody(t *testing.T, r io.Reader) errorBody {
	t.Helper()
	var b errorBody
	require.NoError(t, json.NewDecoder(r).Decode(&b))
	return b
}

func innerCode(t *testing.T, respErr *azcore.ResponseError) string {
	t.Helper()
	b := decodeErrorBody(t, respErr.RawResponse.Body)
	require.NotNil(t, b.Error.InnerError)
	return b.Error.InnerError.Code
}

func errorMessage(t *testing.T, respErr *azcore.ResponseError) string {
	t.Helper()
	return decodeErrorBody(t, respErr.RawResponse.Body).Error.Message
}
