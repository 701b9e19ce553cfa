package templates

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSecrets are the secrets most tests execute with.
func testSecrets() map[string]Secret {
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	expires := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return map[string]Secret{
		"db": {
			Name: "db", Value: `{"user":"app","password":"s3cr3t-Pa55","port":5432,"big":12345678901234567890,"nested":{"list":["a","b"]}}`,
			Version: "v1", ContentType: "application/json", Tags: map[string]string{"env": "prod"},
			Enabled: true, Created: created, Updated: created, Expires: &expires,
		},
		"token":   {Name: "token", Value: "tok-123-xyz"},
		"b64":     {Name: "b64", Value: "aGVsbG8gd29ybGQ="},
		"padded":  {Name: "padded", Value: "  spaced out \n"},
		"lines":   {Name: "lines", Value: "one\ntwo"},
		"quoting": {Name: "quoting", Value: `it's "quoted" $HOME \ <b>&`},
	}
}

func TestFunctions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
	}{
		{"secret", `{{ secret "token" }}`, "tok-123-xyz"},
		{"secret piped name", `{{ "token" | secret }}`, "tok-123-xyz"},
		{"secretMeta version", `{{ (secretMeta "db").Version }}`, "v1"},
		{"secretMeta content type", `{{ (secretMeta "db").ContentType }}`, "application/json"},
		{"secretMeta tag", `{{ (secretMeta "db").Tags.env }}`, "prod"},
		{"secretMeta enabled", `{{ (secretMeta "db").Enabled }}`, "true"},
		{"secretMeta created", `{{ (secretMeta "db").Created.Format "2006-01-02" }}`, "2025-01-02"},
		{"secretMeta expires", `{{ with (secretMeta "db").Expires }}{{ .Year }}{{ end }}`, "2026"},
		{"secretMeta no expiry", `{{ with (secretMeta "token").Expires }}set{{ else }}none{{ end }}`, "none"},
		{"secretMeta has no value field", `{{ (secretMeta "token").Name }}`, "token"},
		{"toJSON string", `{{ secret "quoting" | toJSON }}`, `"it's \"quoted\" $HOME \\ <b>&"`},
		{"toJSON no html escaping", `{{ "<&>" | toJSON }}`, `"<&>"`},
		{"toJSON number", `{{ 42 | toJSON }}`, `42`},
		{"toJSON decoded object", `{{ (secret "db" | fromJSON).nested | toJSON }}`, `{"list":["a","b"]}`},
		{"fromJSON field", `{{ (secret "db" | fromJSON).password }}`, "s3cr3t-Pa55"},
		{"fromJSON number exact", `{{ (secret "db" | fromJSON).big }}`, "12345678901234567890"},
		{"fromJSON number", `{{ (secret "db" | fromJSON).port }}`, "5432"},
		{"fromJSON index list", `{{ index (secret "db" | fromJSON).nested.list 1 }}`, "b"},
		{"fromJSON scalar", `{{ "\"x\"" | fromJSON }}`, "x"},
		{"fromJSON range", `{{ range (secret "db" | fromJSON).nested.list }}[{{ . }}]{{ end }}`, "[a][b]"},
		{"b64enc", `{{ secret "token" | b64enc }}`, "dG9rLTEyMy14eXo="},
		{"b64dec", `{{ secret "b64" | b64dec }}`, "hello world"},
		{"b64 round trip", `{{ secret "quoting" | b64enc | b64dec }}`, `it's "quoted" $HOME \ <b>&`},
		{"trim", `[{{ secret "padded" | trim }}]`, "[spaced out]"},
		{"indent", `{{ secret "lines" | indent 2 }}`, "  one\n  two"},
		{"indent zero", `{{ secret "lines" | indent 0 }}`, "one\ntwo"},
		{"quote", `{{ secret "lines" | quote }}`, `"one\ntwo"`},
		{"quote quotes", `{{ secret "quoting" | quote }}`, `"it's \"quoted\" $HOME \\ <b>&"`},
		{"shellQuote", `{{ secret "quoting" | shellQuote }}`, `'it'\''s "quoted" $HOME \ <b>&'`},
		{"shellQuote empty", `{{ "" | shellQuote }}`, `''`},
		{"no html escaping in output", `{{ secret "quoting" }}`, `it's "quoted" $HOME \ <b>&`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := Parse("t", tt.text)
			require.NoError(t, err)
			out, err := tmpl.Execute(testSecrets())
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(out))
		})
	}
}

func TestShellQuoteRoundTrip(t *testing.T) {
	t.Parallel()
	// A POSIX shell reads '...' literally; '\'' ends the quote, adds a quote
	// and reopens. Undo exactly that and compare.
	for _, v := range []string{"", "plain", "it's", "'''", `a\b$c"d`, "new\nline", "tab\there"} {
		q := shellQuote(v)
		require.True(t, strings.HasPrefix(q, "'") && strings.HasSuffix(q, "'"), q)
		assert.Equal(t, v, strings.ReplaceAll(q[1:len(q)-1], `'\''`, "'"), "value %q", v)
	}
}

func TestFunctionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
	}{
		{"undefined secret", `{{ secret "nope" }}`, `secret "nope" is not defined`},
		{"undefined secretMeta", `{{ secretMeta "nope" }}`, `secret "nope" is not defined`},
		{"missing JSON key", `{{ (secret "db" | fromJSON).passwrd }}`, `map has no entry for key "passwrd"`},
		{"missing tag", `{{ (secretMeta "db").Tags.owner }}`, `map has no entry for key "owner"`},
		{"missing key on nil dot", `{{ .foo }}`, `nil data; no entry for key "foo"`},
		{"fromJSON invalid", `{{ secret "token" | fromJSON }}`, "fromJSON: value is not valid JSON"},
		{"fromJSON trailing data", `{{ "{} {}" | fromJSON }}`, "data after the end"},
		{"fromJSON empty", `{{ "" | fromJSON }}`, "unexpected end"},
		{"b64dec invalid", `{{ secret "token" | b64dec }}`, "b64dec: value is not valid base64"},
		{"indent negative", `{{ secret "token" | indent -1 }}`, "indent: negative width -1"},
		{"indent wrong type", `{{ $w := "x" }}{{ secret "token" | indent $w }}`, "wrong type for value; expected int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := Parse("files[0].template", tt.text)
			require.NoError(t, err)
			out, err := tmpl.Execute(testSecrets())
			require.Error(t, err)
			assert.Nil(t, out, "no partial output on error")
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "files[0].template")
		})
	}
}
