package manifest_test

import (
	"errors"
	"fmt"

	"github.com/kv-agent/agent/agent/manifest"
)

func ExampleParse() {
	src := []byte(`version: 1
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  db_password: main/db-password
files:
  - path: /etc/app/app.env
    format: dotenv
env:
  DB_PASSWORD: '{{ secret "db_password" }}'
`)
	m, err := manifest.Parse("/etc/agent/agent.yaml", src, manifest.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := m.Secrets["db_password"]
	fmt.Println(m.Vaults[s.Vault].URL, s.SecretName, s.Identity, m.Identities[s.Identity].Kind)
	fmt.Println(m.Files[0].Path, m.Files[0].Format, m.Files[0].Mode)
	fmt.Println(m.Env[0].Name, m.Watch.Interval)
	// Output:
	// https://contoso.vault.azure.net db-password default auto
	// /etc/app/app.env dotenv -rw-------
	// DB_PASSWORD 5m0s
}

func ExampleErrors() {
	src := []byte(`version: 1
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  db: mian/db-password
files:
  - path: /etc/app/config.json
    template: '{{ secret "db" }}'
    mode: "0999"
`)
	_, err := manifest.Parse("agent.yaml", src, manifest.LoadOptions{})
	var errs manifest.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Println(e)
		}
	}
	// Output:
	// agent.yaml:5:7: secrets.db: vault "mian" is not defined (did you mean "main"?)
	// agent.yaml:9:11: files[0].mode: "0999" is not an octal file mode
}
