package emulator

import (
	"regexp"
	"strings"
	"testing"
)

// TestNamesAgreeWithRegexps checks the seed's name rules against the
// regular expressions they replace, over every short string of a few
// interesting characters and some long ones.
func TestNamesAgreeWithRegexps(t *testing.T) {
	guid := regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	ident := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$`)
	vault := regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)
	alphabet := "aZ9-._g/ "
	var inputs []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		inputs = append(inputs, prefix)
		if n > 0 {
			for i := 0; i < len(alphabet); i++ {
				gen(prefix+alphabet[i:i+1], n-1)
			}
		}
	}
	gen("", 4)
	inputs = append(inputs,
		"0b6f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "0B6F3A4E-1C2D-4E5F-8A9B-0C1D2E3F4A5B",
		"0b6f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5", "0b6f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5bc",
		"0b6f3a4e1c2d-4e5f-8a9b-0c1d2e3f4a5b-", "0b6f3a4g-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
		strings.Repeat("a", 64), strings.Repeat("a", 65), "a"+strings.Repeat(".", 63),
		strings.Repeat("a", 24), strings.Repeat("a", 25), "Contoso-Prod",
		"\u212Aontoso", "conto\u212A", "ab\u0130c", "caf\u00e9")
	for _, s := range inputs {
		if got, want := isGUID(s), guid.MatchString(s); got != want {
			t.Errorf("isGUID(%q) = %v, regexp says %v", s, got, want)
		}
		if got, want := isIdentityName(s), ident.MatchString(s); got != want {
			t.Errorf("isIdentityName(%q) = %v, regexp says %v", s, got, want)
		}
		// Key Vault also refuses consecutive hyphens, which the old
		// expression let through.
		if got, want := isVaultName(s), vault.MatchString(s) && !strings.Contains(s, "--"); got != want {
			t.Errorf("isVaultName(%q) = %v, want %v", s, got, want)
		}
	}
}
