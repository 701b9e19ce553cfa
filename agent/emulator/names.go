package emulator

import (
	"github.com/kv-agent/agent/agent/kvname"
)

// The seed's name rules, as loops: the emulator is linked into the agent,
// and compiled regular expressions would cost every agent start-up.

// isVaultName reports whether s is a vault name as Azure allows it, in
// any case (hosts are matched lowercased).
func isVaultName(s string) bool { return kvname.VaultAnyCase(s) }

// isGUID reports whether s is a GUID in 8-4-4-4-12 form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isIdentityName reports whether s is a valid identity name: 1 to 64
// letters, digits, '.', '_' and '-', starting with a letter or digit.
func isIdentityName(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}
