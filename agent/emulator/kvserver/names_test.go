package kvserver

import (
	"strings"
	"testing"
)

func TestIsDNSLabel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"a", true}, {"contoso", true}, {"Contoso-1", true}, {"1a", true}, {strings.Repeat("a", 63), true},
		{"", false}, {"-a", false}, {"a-", false}, {"a.b", false}, {"a_b", false}, {strings.Repeat("a", 64), false},
	} {
		if got := isDNSLabel(tc.in); got != tc.want {
			t.Errorf("isDNSLabel(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
