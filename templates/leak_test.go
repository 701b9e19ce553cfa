package templates

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"text/template"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leakSecrets hold values that must never appear in an error. inner is the
// password inside db and the plain text of b64; both are derived, not passed.
const (
	leakPW    = "hunter2-Sup3rS3cret"
	leakInner = "inner-P4ssw0rd-xyz"
	leakMulti = "-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----"
	leakShort = "42"
	leakJSONy = `{"a": hunter2x}`
)

func leakSecretsMap() map[string]Secret {
	return map[string]Secret{
		"pw":    {Value: leakPW},
		"db":    {Value: `{"user":"app","password":"` + leakInner + `","list":[1,2]}`},
		"b64":   {Value: "aW5uZXItUDRzc3cwcmQteHl6"}, // base64 of leakInner
		"multi": {Value: leakMulti},
		"pin":   {Value: leakShort},
		"jsony": {Value: leakJSONy},
	}
}

// forbidden lists every value and derived value that must not leak.
func forbidden() []string {
	var out []string
	for _, s := range leakSecretsMap() {
		out = append(out, s.Value)
	}
	return append(out, leakInner, "MIIEvQIBADANBg", "hunter2x")
}

func TestExecuteErrorsNeverContainValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		// exposes is true when text/template's own message would contain a
		// value, so the redaction marker must show up in ours.
		exposes bool
	}{
		{"range over a value", `{{ range secret "pw" }}{{ end }}`, true},
		{"range over a short value", `{{ range secret "pin" }}{{ end }}`, true},
		{"range over a multi-line value", `{{ range secret "multi" }}{{ end }}`, true},
		{"range over a JSON field", `{{ range (secret "db" | fromJSON).password }}{{ end }}`, true},
		{"range over decoded base64", `{{ range (secret "b64" | b64dec) }}{{ end }}`, true},
		{"range over trimmed value", `{{ range (secret "pw" | trim) }}{{ end }}`, true},
		{"range over indented multi-line", `{{ range (secret "multi" | indent 4) }}{{ end }}`, true},
		{"range over quoted multi-line", `{{ range (secret "multi" | quote) }}{{ end }}`, true},
		{"range over shell-quoted", `{{ range (secret "pw" | shellQuote) }}{{ end }}`, true},
		{"range over printf output", `{{ range printf "x%sy" (secret "pw") }}{{ end }}`, true},
		{"range over printf %d error text", `{{ range printf "%d" (secret "pw") }}{{ end }}`, true},
		{"index into a value by int", `{{ index (secret "pw") 100 }}`, false},
		{"index into a value by key", `{{ index (secret "pw") "k" }}`, false},
		{"slice out of range", `{{ slice (secret "pw") 5 1 }}`, false},
		{"fromJSON on non-JSON", `{{ secret "pw" | fromJSON }}`, false},
		{"fromJSON on almost JSON", `{{ secret "jsony" | fromJSON }}`, false},
		{"fromJSON on printf error text", `{{ printf "%d" (secret "pw") | fromJSON }}`, false},
		{"b64dec on non-base64", `{{ secret "pw" | b64dec }}`, false},
		{"b64dec on multi-line", `{{ secret "multi" | b64dec }}`, false},
		{"field on a string", `{{ (secret "pw").Foo }}`, false},
		{"method on a string", `{{ (secret "pw").Len }}`, false},
		{"field on a JSON string field", `{{ (secret "db" | fromJSON).password.x }}`, false},
		{"missing JSON key", `{{ (secret "db" | fromJSON).nope }}`, false},
		{"compare incompatible", `{{ eq (secret "pw") 1 }}`, false},
		{"call a string", `{{ call (secret "pw") }}`, false},
		{"wrong argument type", `{{ indent (secret "pin") "x" }}`, false},
		{"field on a JSON list", `{{ (secret "db" | fromJSON).list.x }}`, false},
		{"undefined secret next to defined ones", `{{ secret "pw" }}{{ secret "nope" }}`, false},
		{"caller function error quoting the value", `{{ leaky "pw" }}`, true},
		{"caller function panic with the value", `{{ panicky "multi" }}`, true},
		{"caller function error with derived value", `{{ leakyArg (secret "db" | fromJSON).password }}`, true},
	}
	extra := template.FuncMap{
		"leaky": SecretFunc(func(s Secret) (any, error) {
			return nil, fmt.Errorf("bad secret %q: %s", s.Value, s.Value)
		}),
		"panicky":  SecretFunc(func(s Secret) (any, error) { panic(s.Value) }),
		"leakyArg": func(v string) (string, error) { return "", errors.New("cannot use " + v) },
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := ParseWith("files[3].template", tt.text, extra)
			require.NoError(t, err)
			out, err := tmpl.Execute(leakSecretsMap())
			require.Error(t, err)
			assert.Nil(t, out)
			msg := err.Error()
			for _, v := range forbidden() {
				assert.NotContains(t, msg, v)
			}
			for _, line := range strings.Split(leakMulti, "\n") {
				assert.NotContains(t, msg, line)
			}
			if tt.exposes {
				assert.Contains(t, msg, redactedMark, "expected a redacted value in %q", msg)
			}
			assert.Contains(t, msg, "files[3].template", "the error still says where")
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string
		msg    string
		want   string
	}{
		{"nothing to redact", []string{"secret"}, "all fine", "all fine"},
		{"every occurrence", []string{"abc"}, "abc and abc", "[redacted] and [redacted]"},
		{"longest wins", []string{"pass", "password1"}, "got password1!", "got [redacted]!"},
		{"overlapping values merge", []string{"abcd", "cdef"}, "xabcdefx", "x[redacted]x"},
		{"overlapping occurrences of one value", []string{"aa"}, "aaa", "[redacted]"},
		{"short value still redacted", []string{"7"}, "a7b", "a[redacted]b"},
		{"go-quoted form", []string{"a\nb\"c"}, `value "a\nb\"c" bad`, `value "[redacted]" bad`},
		{"empty values ignored", []string{""}, "text", "text"},
		{"marker not rescanned", []string{"red", "act"}, "red act", "[redacted] [redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRedactor(nil)
			for _, v := range tt.values {
				r.add(v)
			}
			assert.Equal(t, tt.want, r.redact(tt.msg))
		})
	}
}
