package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestErrorsNeverContainSecretValues is the leak regression test: secret
// values that a user might paste into the wrong place in the manifest must
// not come back in error messages.
func TestErrorsNeverContainSecretValues(t *testing.T) {
	t.Parallel()
	const secret = "Zq8~hunter2.Sup3rS3cret_Value"
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "t.tmpl")
	require.NoError(t, os.WriteFile(tmpl, []byte("{{ "+secret), 0o600))

	tests := []struct{ name, src string }{
		{"inline client secret", "version: 1\nidentities: {sp: {kind: servicePrincipal, tenantId: " + guid + ", clientId: " + guid2 + ", clientSecret: '" + secret + "'}}\n"},
		{"secret as client id", "version: 1\nidentities: {a: {kind: auto, clientId: '" + secret + "'}}\n"},
		{"secret as tenant id", "version: 1\nidentities: {w: {kind: workloadIdentity, tenantId: '" + secret + "'}}\n"},
		{"secret as object id", "version: 1\nidentities: {m: {kind: managedIdentity, objectId: '" + secret + "'}}\n"},
		{"secret as resource id", "version: 1\nidentities: {m: {kind: managedIdentity, resourceId: '" + secret + "'}}\n"},
		{"secret as client secret env", "version: 1\nidentities: {sp: {kind: servicePrincipal, tenantId: " + guid + ", clientId: " + guid2 + ", clientSecretEnv: '" + secret + "'}}\n"},
		{"secret as secret reference", "version: 1\nsecrets: {db: '" + secret + "'}\n"},
		{"secret with a slash as secret reference", "version: 1\nsecrets: {db: 'x/" + secret + "/" + secret + "'}\n"},
		{"secret in a template with other errors", "version: 1\nfiles: [{path: /a, template: '" + secret + "', mode: 0600, format: json}]\n"},
		{"secret in a template file with other errors", "version: 1\nfiles: [{path: /a, templateFile: " + tmpl + ", mode: 'x'}]\n"},
		{"secret in an env value with a bad name", "version: 1\nenv: {'BAD NAME': '" + secret + "'}\n"},
		{"secret in env with a duplicate", "version: 1\nenv: {A: '" + secret + "', A: '" + secret + "'}\n"},
		{"secret in malformed yaml", "version: 1\nenv:\n  A: '" + secret + "\n  B: [\n"},
		{"secret as an unknown section's value", "version: 1\npassword: '" + secret + "'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("agent.yaml", []byte(tt.src), LoadOptions{})
			require.Error(t, err, "each case must fail, or it tests nothing")
			require.NotContains(t, err.Error(), secret)
			for _, part := range strings.FieldsFunc(secret, func(r rune) bool { return r == '~' || r == '.' || r == '_' }) {
				require.NotContains(t, err.Error(), part)
			}
		})
	}
}
