package templates

import (
	"testing"
	"text/template"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		want       []string
	}{
		{"none", `plain text {{ "x" }}`, []string{}},
		{"argument", `{{ secret "db" }}`, []string{"db"}},
		{"sorted and deduplicated", `{{ secret "b" }}{{ secret "a" }}{{ secret "b" }}`, []string{"a", "b"}},
		{"secretMeta", `{{ (secretMeta "tls").Version }}`, []string{"tls"}},
		{"cert and certPFX reserved", `{{ (cert "c1").KeyPEM }}{{ certPFX "c2" }}`, []string{"c1", "c2"}},
		{"pipeline argument", `{{ secret "db" | fromJSON | toJSON }}`, []string{"db"}},
		{"piped name", `{{ "db" | secret | trim }}`, []string{"db"}},
		{"parenthesised", `{{ (secret "db" | fromJSON).password }}`, []string{"db"}},
		{"nested call", `{{ printf "%s:%s" (secret "user") (index (secret "db" | fromJSON) "pw") }}`, []string{"db", "user"}},
		{"if condition and branches", `{{ if secret "flag" }}{{ secret "a" }}{{ else if secret "g" }}{{ secret "b" }}{{ else }}{{ secret "c" }}{{ end }}`, []string{"a", "b", "c", "flag", "g"}},
		{"with", `{{ with secret "w" }}{{ . }}{{ secret "in" }}{{ end }}`, []string{"in", "w"}},
		{"range", `{{ range (secret "list" | fromJSON) }}{{ . }}{{ else }}{{ secret "empty" }}{{ end }}`, []string{"empty", "list"}},
		{"variables", `{{ $db := secret "db" | fromJSON }}{{ $db.user }}`, []string{"db"}},
		{"define and template", `{{ define "x" }}{{ secret "inner" }}{{ end }}{{ template "x" (secret "arg") }}`, []string{"arg", "inner"}},
		{"block", `{{ block "b" . }}{{ secret "blk" }}{{ end }}`, []string{"blk"}},
		{"comments ignored", `{{/* secret "no" */}}{{ secret "yes" }}`, []string{"yes"}},
		{"non-constant name is invisible", `{{ $n := "db" }}{{ secret $n }}`, []string{}},
		{"computed name is invisible", `{{ secret (printf "db_%s" "x") }}`, []string{}},
		{"string not passed to a secret function", `{{ trim "db" }}{{ quote "x" | trim }}`, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			extra := template.FuncMap{
				"cert":    SecretFunc(func(s Secret) (any, error) { return s.Value, nil }),
				"certPFX": SecretFunc(func(s Secret) (any, error) { return s.Value, nil }),
			}
			tmpl, err := ParseWith("t", tt.text, extra)
			require.NoError(t, err)
			assert.Equal(t, tt.want, tmpl.Secrets())
			assert.False(t, tmpl.UsesAll())
		})
	}
}

func TestSecretsOfCallerSecretFunc(t *testing.T) {
	t.Parallel()
	extra := template.FuncMap{
		"pemKey": SecretFunc(func(s Secret) (any, error) { return "KEY(" + s.Value + ")", nil }),
		"upper":  func(s string) string { return s + "!" },
	}
	tmpl, err := ParseWith("t", `{{ pemKey "tls" }} {{ upper "notasecret" }}`, extra)
	require.NoError(t, err)
	assert.Equal(t, []string{"tls"}, tmpl.Secrets())

	out, err := tmpl.Execute(map[string]Secret{"tls": {Value: "v"}})
	require.NoError(t, err)
	assert.Equal(t, "KEY(v) notasecret!", string(out))

	_, err = tmpl.Execute(map[string]Secret{})
	assert.ErrorContains(t, err, `secret "tls" is not defined`)
}
