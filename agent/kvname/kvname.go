// Package kvname holds Key Vault's naming rules: what a vault name, a
// secret name and a secret version may look like. They are written out as
// loops rather than regular expressions: the counted repetitions these
// rules need ({1,127}) cost a fraction of a millisecond each to compile,
// and every package that validates names would pay that at start-up.
package kvname

import "strings"

// Vault reports whether s is a valid vault name (the first DNS label of a
// vault's host): 3 to 24 lowercase letters, digits and hyphens, starting
// with a letter, ending with a letter or a digit, with no "--".
func Vault(s string) bool {
	if len(s) < 3 || len(s) > 24 || !isLower(s[0]) || s[len(s)-1] == '-' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLower(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return !strings.Contains(s, "--")
}

// VaultAnyCase reports whether s is a valid vault name with its ASCII
// letters in any case, as in host names and App Service references.
// Non-ASCII letters are refused, including those strings.ToLower maps to
// ASCII ones (the Kelvin sign becomes "k").
func VaultAnyCase(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return Vault(strings.ToLower(s))
}

// Secret reports whether s is a valid secret name: 1 to 127 letters,
// digits and hyphens.
func Secret(s string) bool {
	if len(s) < 1 || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLower(c) && !isUpper(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// Version reports whether s has the shape of a secret version: 32
// lowercase hexadecimal digits, as Key Vault writes them.
func Version(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isDigit(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
