package manifest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLoadReportsEveryError checks that one Load reports the problems of
// every section, in file order, and that a broken definition does not make
// its users fail too (legacy is broken but defined, so main's identity is
// fine; main's URL is broken but main is defined, and so on).
func TestLoadReportsEveryError(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "broken.yaml")
	_, err := Load(path, LoadOptions{})
	require.Error(t, err)
	var errs Errors
	require.True(t, errors.As(err, &errs))
	want := []string{
		path + `:4:11: identities.legacy: missing required field "clientId"`,
		path + `:4:46: identities.legacy.tenantId: must be a GUID such as 00000000-0000-0000-0000-000000000000`,
		path + `:6:15: vaults.main.url: "http://contoso.vault.azure.net" must use https`,
		path + `:9:28: secrets.api.name: "api_key" is not a valid Key Vault secret name (1-127 letters, digits and hyphens)`,
		path + `:14:11: files[0].mode: must be a quoted string such as "0600"; quote it (mode: "644") because YAML readers disagree on unquoted octal numbers`,
		path + `:17:3: env.2FA: environment variable name must start with a letter or "_" and contain only letters, digits and "_"`,
		path + `:19:3: watch.intervall: unknown field (did you mean "interval"?)`,
	}
	require.Equal(t, strings.Join(want, "\n"), err.Error())
	require.Len(t, errs, len(want))
	require.Equal(t, &Error{File: path, Pos: Pos{6, 15}, Field: "vaults.main.url", Msg: `"http://contoso.vault.azure.net" must use https`}, errs[2])
}
