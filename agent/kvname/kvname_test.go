package kvname

import (
	"regexp"
	"strings"
	"testing"
)

func TestVault(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"abc", true}, {"contoso-prod", true}, {"a1b", true}, {strings.Repeat("a", 24), true},
		{"ab", false}, {strings.Repeat("a", 25), false}, {"1abc", false}, {"abc-", false},
		{"Abc", false}, {"a--b", false}, {"a_b", false}, {"a.b", false}, {"", false}, {"-ab", false},
	} {
		if got := Vault(tc.in); got != tc.want {
			t.Errorf("Vault(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestVaultAnyCase(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"contoso", true}, {"Contoso-Prod", true}, {"ABC", true},
		{"\u212Aontoso", false}, {"conto\u212A", false}, {"caf\u00e9", false}, {"A--B", false}, {"1abc", false},
	} {
		if got := VaultAnyCase(tc.in); got != tc.want {
			t.Errorf("VaultAnyCase(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSecret(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"a", true}, {"db-password", true}, {"DB-Password-2", true}, {"-", true}, {strings.Repeat("x", 127), true},
		{"", false}, {strings.Repeat("x", 128), false}, {"db_password", false}, {"db.password", false},
		{"db password", false}, {"dé", false}, {"a/b", false},
	} {
		if got := Secret(tc.in); got != tc.want {
			t.Errorf("Secret(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{"0123456789ABCDEF0123456789abcdef", false}, {"0123456789abcdef0123456789abcde", false},
		{"0123456789abcdef0123456789abcdef0", false}, {"g123456789abcdef0123456789abcdef", false}, {"", false},
	} {
		if got := Version(tc.in); got != tc.want {
			t.Errorf("Version(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestAgreesWithRegexps checks every byte string of a few shapes against
// the regular expressions these rules replace.
func TestAgreesWithRegexps(t *testing.T) {
	vault := regexp.MustCompile(`^[a-z][a-z0-9-]{1,22}[a-z0-9]$`)
	secret := regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)
	version := regexp.MustCompile(`^[0-9a-f]{32}$`)
	alphabet := "aZ09-_.\x00\xff"
	var inputs []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		inputs = append(inputs, prefix)
		if n == 0 {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			gen(prefix+alphabet[i:i+1], n-1)
		}
	}
	gen("", 4)
	for _, n := range []int{23, 24, 25, 31, 32, 33, 126, 127, 128} {
		inputs = append(inputs, strings.Repeat("a", n), "a"+strings.Repeat("0", n-1), strings.Repeat("a", n-1)+"-")
	}
	for _, s := range inputs {
		if got, want := Vault(s), vault.MatchString(s) && !strings.Contains(s, "--"); got != want {
			t.Errorf("Vault(%q) = %v, regexp says %v", s, got, want)
		}
		if got, want := Secret(s), secret.MatchString(s); got != want {
			t.Errorf("Secret(%q) = %v, regexp says %v", s, got, want)
		}
		if got, want := Version(s), version.MatchString(s); got != want {
			t.Errorf("Version(%q) = %v, regexp says %v", s, got, want)
		}
	}
}
