package templates

import (
	"reflect"
	"strings"
	"testing"
	"text/template"
)

func TestSecretPairFunc(t *testing.T) {
	t.Parallel()
	join := SecretPairFunc(func(a, b Secret) (any, error) { return a.Value + "+" + b.Value, nil })
	tmpl, err := ParseWith("pair", `{{ both "tls" "pw" }}`, template.FuncMap{"both": join})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tmpl.Secrets(), []string{"pw", "tls"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Secrets() = %v, want %v", got, want)
	}
	out, err := tmpl.Execute(map[string]Secret{"tls": {Name: "tls", Value: "cert-bytes"}, "pw": {Name: "pw", Value: "hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "cert-bytes+hunter2" {
		t.Errorf("output %q", out)
	}
	_, err = tmpl.Execute(map[string]Secret{"tls": {Name: "tls", Value: "cert-bytes"}})
	if err == nil || !strings.Contains(err.Error(), `secret "pw" is not defined`) || strings.Contains(err.Error(), "cert-bytes") {
		t.Errorf("missing second secret: err = %v", err)
	}
}
