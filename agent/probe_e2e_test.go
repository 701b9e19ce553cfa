package agent_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestIMDSProbeTimeout: on a machine whose IMDS is slow to answer, the
// probe of the auto identity waits as long as the manifest's
// imdsProbeTimeout says, else AGENT_IMDS_PROBE_TIMEOUT, else 1 s.
func TestIMDSProbeTimeout(t *testing.T) {
	t.Parallel()
	const manifest = `version: 1
{{identities}}vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  db: main/db-password
files:
  - {path: out/db.txt, template: 'db={{ secret "db" }}'}
`
	const slowProbe = "identities:\n  default: {kind: auto, imdsProbeTimeout: 300ms}\n"
	cases := []struct {
		name       string
		identities string
		env        []string
		wantCode   int
		wantErr    string
	}{
		{"the setting waits out a slow IMDS", "", []string{"AGENT_IMDS_PROBE_TIMEOUT=10s"}, 0, ""},
		{"without it, one second", "", nil, 69, "no IMDS endpoint answered within 1s"},
		{"the manifest's value wins over the setting", slowProbe, []string{"AGENT_IMDS_PROBE_TIMEOUT=10s"}, 69, "no IMDS endpoint answered within 300ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			// Every answer takes 1.5 s, IMDS's included.
			e := startEmulator(t, watchSeed("latency: 1500ms\n", ""), dir)
			mf := writeFile(t, dir, "agent.yaml", strings.Replace(manifest, "{{identities}}", tc.identities, 1))
			r := runAgent(t, e, tc.env, "render", "-m", mf)
			expectCode(t, r, tc.wantCode)
			if tc.wantErr != "" && !strings.Contains(r.stderr, tc.wantErr) {
				t.Errorf("stderr does not say %q:\n%s", tc.wantErr, r.stderr)
			}
			if tc.wantCode == 0 {
				if got := readFile(t, filepath.Join(dir, "out/db.txt")); got != "db=db-OLD-value-1f2e" {
					t.Errorf("db.txt = %q", got)
				}
			}
		})
	}
}
