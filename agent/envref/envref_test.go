package envref

import (
	"errors"
	"strings"
	"testing"
)

const ver = "0123456789abcdef0123456789abcdef"

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		value string
		want  Ref
	}{
		{"secret uri", "@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/db-password)",
			Ref{Host: "contoso.vault.azure.net", Name: "db-password"}},
		{"secret uri with version and trailing slash", "@Microsoft.KeyVault(SecretUri=https://Contoso.Vault.Azure.Net/secrets/db-password/" + strings.ToUpper(ver) + "/)",
			Ref{Host: "contoso.vault.azure.net", Name: "db-password", Version: ver}},
		{"secret uri with port 443", "@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net:443/secrets/a/)",
			Ref{Host: "contoso.vault.azure.net", Name: "a"}},
		{"vault name form", "@Microsoft.KeyVault(VaultName=contoso;SecretName=db-password)",
			Ref{VaultName: "contoso", Name: "db-password"}},
		{"vault name form with version", "@Microsoft.KeyVault(VaultName=contoso;SecretName=db-password;SecretVersion=" + ver + ")",
			Ref{VaultName: "contoso", Name: "db-password", Version: ver}},
		{"keys and prefix in any case, spaces", "  @microsoft.keyvault( vaultname = Contoso ; SECRETNAME=db ;)",
			Ref{VaultName: "contoso", Name: "db"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse("X", tc.value)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.want.Var = "X"
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, value, want string
	}{
		{"no parentheses", "@Microsoft.KeyVault", "malformed"},
		{"unclosed", "@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/a", "malformed"},
		{"text after", "@Microsoft.KeyVault(VaultName=contoso;SecretName=a)x", "malformed"},
		{"nested parentheses", "@Microsoft.KeyVault(VaultName=(contoso);SecretName=a)", "unbalanced"},
		{"empty", "@Microsoft.KeyVault()", "needs SecretUri"},
		{"no equals", "@Microsoft.KeyVault(contoso)", `has no "="`},
		{"unknown key", "@Microsoft.KeyVault(VaultName=contoso;SecretName=a;Version=1)", `unknown key "Version"`},
		{"duplicate key", "@Microsoft.KeyVault(VaultName=a1b;vaultname=contoso;SecretName=a)", "VaultName is given twice"},
		{"empty value", "@Microsoft.KeyVault(VaultName=;SecretName=a)", "VaultName is empty"},
		{"vault without secret", "@Microsoft.KeyVault(VaultName=contoso)", "needs SecretName"},
		{"secret without vault", "@Microsoft.KeyVault(SecretName=a)", "needs VaultName"},
		{"mixed forms", "@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/a;VaultName=contoso)", "mixes"},
		{"http", "@Microsoft.KeyVault(SecretUri=http://contoso.vault.azure.net/secrets/a)", "must use https"},
		{"port", "@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net:8443/secrets/a)", "port"},
		{"query", "@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/a?x=1)", "query"},
		{"not a url", "@Microsoft.KeyVault(SecretUri=contoso)", "not a URL"},
		{"wrong path", "@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/keys/a)", "/secrets/NAME"},
		{"too deep", "@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/a/" + ver + "/x)", "/secrets/NAME"},
		{"bad vault host", "@Microsoft.KeyVault(SecretUri=https://localhost/secrets/a)", "host is not a Key Vault host"},
		{"bad vault name", "@Microsoft.KeyVault(VaultName=1bad;SecretName=a)", "VaultName is not a vault name"},
		{"Kelvin sign in vault name", "@Microsoft.KeyVault(VaultName=\u212Aontoso;SecretName=a)", "VaultName is not a vault name"},
		{"Kelvin sign in host", "@Microsoft.KeyVault(SecretUri=https://\u212Aontoso.vault.azure.net/secrets/a)", "host is not a Key Vault host"},
		{"non-ASCII host suffix", "@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.n\u00e9t/secrets/a)", "host is not a Key Vault host"},
		{"bad secret name", "@Microsoft.KeyVault(VaultName=contoso;SecretName=a_b)", "secret name"},
		{"bad version", "@Microsoft.KeyVault(VaultName=contoso;SecretName=a;SecretVersion=latest)", "32 hexadecimal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("DB_PASSWORD", tc.value)
			if err == nil {
				t.Fatalf("Parse accepted %q", tc.value)
			}
			var e *Error
			if !errors.As(err, &e) || e.Var != "DB_PASSWORD" {
				t.Errorf("error %v is not an *Error for DB_PASSWORD", err)
			}
			if !strings.HasPrefix(err.Error(), "environment variable DB_PASSWORD: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name the variable and contain %q", err, tc.want)
			}
		})
	}
}

func TestVaultURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, value, suffix, want, wantErr string
	}{
		{"uri in public cloud", "@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/a)", "vault.azure.net", "https://contoso.vault.azure.net", ""},
		{"name in china", "@Microsoft.KeyVault(VaultName=contoso;SecretName=a)", "vault.azure.cn", "https://contoso.vault.azure.cn", ""},
		{"foreign host", "@Microsoft.KeyVault(SecretUri=https://contoso.example.com/secrets/a)", "vault.azure.net", "", `host "contoso.example.com" is not a Key Vault host`},
		{"other cloud", "@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.cn/secrets/a)", "vault.azure.net", "", "expected NAME.vault.azure.net"},
		{"sub-domain", "@Microsoft.KeyVault(SecretUri=https://contoso.evil.vault.azure.net/secrets/a)", "vault.azure.net", "", "not a Key Vault host"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Parse("V", tc.value)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.VaultURL(tc.suffix)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "variable V") {
					t.Fatalf("VaultURL = %q, %v; want error %q naming V", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("VaultURL = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestScan(t *testing.T) {
	t.Parallel()
	env := []string{
		"PATH=/usr/bin",
		"Z=@Microsoft.KeyVault(VaultName=contoso;SecretName=z)",
		"A=@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/a)",
		"BAD2=@microsoft.keyvault(SecretUri=http://contoso.vault.azure.net/secrets/a)",
		"BAD1=@Microsoft.KeyVault(Vault=x)",
		"PLAIN=not @Microsoft.KeyVault(at the start)",
		"NOEQUALS",
	}
	refs, err := Scan(env)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 || errs[0].Var != "BAD1" || errs[1].Var != "BAD2" {
		t.Fatalf("Scan errors = %v, want BAD1 and BAD2 in order", err)
	}
	if len(refs) != 2 || refs[0].Var != "A" || refs[1].Var != "Z" {
		t.Fatalf("Scan refs = %+v, want A then Z", refs)
	}
	if refs, err := Scan([]string{"A=b", "C=@Microsoft.KeyVault(VaultName=contoso;SecretName=c)"}); err != nil || len(refs) != 1 {
		t.Errorf("Scan = %v, %v; want one reference and no error", refs, err)
	}
}

// TestErrorsDoNotRepeatValues: when a value was pasted into a reference
// (for example a password in place of the secret name or version), the
// error names the variable but does not repeat the value.
func TestErrorsDoNotRepeatValues(t *testing.T) {
	t.Parallel()
	const v = "Hunter2_LEAK_value"
	values := []string{
		"@Microsoft.KeyVault(VaultName=contoso;SecretName=" + v + ")",
		"@Microsoft.KeyVault(VaultName=contoso;SecretName=a;SecretVersion=" + v + ")",
		"@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/" + v + ")",
		"@Microsoft.KeyVault(SecretUri=https://contoso.vault.azure.net/secrets/a?" + v + ")",
		"@Microsoft.KeyVault(" + v + ")",
		"@Microsoft.KeyVault " + v,
		"@Microsoft.KeyVault(SecretUri=" + v + ")",
		"@Microsoft.KeyVault(VaultName=" + v + ";SecretName=a)",
		"@Microsoft.KeyVault(SecretUri=https://" + v + "/secrets/a)",
	}
	for _, val := range values {
		_, err := Parse("X", val)
		if err == nil {
			t.Errorf("Parse accepted %q", val)
			continue
		}
		if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(v)) {
			t.Errorf("error repeats the value: %v", err)
		}
	}
}
