package templates

import (
	"strings"
	"testing"
	"text/template"
)

// TestBuiltinsNeverPrintValues: values computed by text/template's own
// built-ins (printf, slice) or returned by a caller's SecretFunc are not
// known to the redactor; errors that could print them must withhold their
// details, while keeping the template's location.
func TestBuiltinsNeverPrintValues(t *testing.T) {
	t.Parallel()
	const value = "correct horse battery staple"
	key := "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----\n"
	extra := template.FuncMap{"cert": SecretFunc(func(Secret) (any, error) { return struct{ KeyPEM string }{key}, nil })}
	secrets := map[string]Secret{"db": {Name: "db", Value: value}, "tls": {Name: "tls", Value: "pfx-bytes"}}
	cases := map[string]string{
		"range over printf hex":   `{{ range printf "%x" (secret "db") }}{{ end }}`,
		"range over a slice":      `{{ range slice (secret "db") 1 }}{{ end }}`,
		"range over a cert's key": `{{ range (cert "tls").KeyPEM }}{{ end }}`,
		"range over urlquery":     `{{ range urlquery (secret "db") }}{{ end }}`,
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := ParseWith("files[0].template", text, extra)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.Execute(secrets)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, leak := range []string{"orrect horse", "636f7272", "MIGHAgEA", "PRIVATE KEY", "correct+horse"} {
				if strings.Contains(msg, leak) {
					t.Errorf("message leaks %q: %s", leak, msg)
				}
			}
			if !strings.Contains(msg, "files[0].template:1:") || !strings.Contains(msg, "details withheld") {
				t.Errorf("message lost its location or reason: %s", msg)
			}
		})
	}
}
