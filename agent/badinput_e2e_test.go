package agent_test

import (
	"strings"
	"testing"
)

// TestBadManifests: each malformed manifest gets one clear line per problem
// naming agent.yaml:line, exit code 65 (66 for a missing manifest), and no
// file is touched. Both render and check --offline refuse it before
// contacting anything (no emulator runs here).
func TestBadManifests(t *testing.T) {
	t.Parallel()
	head := "version: 1\nvaults:\n  main: {url: https://contoso.vault.azure.net}\nsecrets:\n  db: main/db-password\n"
	cases := []struct {
		name     string
		manifest string
		want     []string
	}{
		{"malformed YAML", "version: 1\nvaults: {main: [\n", []string{"agent.yaml:"}},
		{"unknown key", head + "filez: []\n", []string{"agent.yaml:6:1: filez:", "unknown"}},
		{"wrong type", head + "files: {path: x}\n", []string{"agent.yaml:6:8: files:"}},
		{"missing version", "vaults:\n  main: {url: https://contoso.vault.azure.net}\n", []string{"version"}},
		{"undefined vault", "version: 1\nvaults:\n  main: {url: https://contoso.vault.azure.net}\nsecrets:\n  db: mian/db-password\n",
			[]string{"agent.yaml:5:", `vault "mian" is not defined (did you mean "main"?)`}},
		{"undefined identity", "version: 1\nvaults:\n  main: {url: https://contoso.vault.azure.net, identity: nobody}\n",
			[]string{"agent.yaml:3:", `identity "nobody" is not defined`}},
		{"inline client secret", "version: 1\nidentities:\n  sp: {kind: servicePrincipal, tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, clientId: 33333333-1111-4333-8333-333333333333, clientSecret: hunter2-inline}\n",
			[]string{"agent.yaml:3:", "must not be written in the manifest"}},
		{"http vault", "version: 1\nvaults:\n  main: {url: http://contoso.vault.azure.net}\n", []string{"agent.yaml:3:", "https"}},
		{"foreign host", "version: 1\nvaults:\n  main: {url: https://contoso.example.com}\n", []string{"agent.yaml:3:", "vault.azure.net"}},
		{"duplicate file paths", head + "files:\n  - {path: /tmp/agent-dup-x, template: a}\n  - {path: /tmp/agent-dup-x, template: b}\n",
			[]string{"agent.yaml:8:", "/tmp/agent-dup-x"}},
		{"template syntax error", head + "files:\n  - path: out/a\n    template: '{{ secret \"db\" '\n",
			[]string{"agent.yaml:8:", "files[0].template"}},
		{"template uses undefined secret", head + "files:\n  - path: out/a\n    template: '{{ secret \"dbb\" }}'\n",
			[]string{"agent.yaml:8:", `secret "dbb" is not defined (did you mean "db"?)`}},
		{"env uses undefined secret", head + "env:\n  X: '{{ secret \"nope\" }}'\n", []string{"agent.yaml:7:", "env.X", `secret "nope" is not defined`}},
		{"unknown format", head + "files:\n  - {path: out/a, format: toml}\n", []string{"agent.yaml:7:", "toml"}},
		{"bad mode", head + "files:\n  - {path: out/a, template: x, mode: \"0999\"}\n", []string{"agent.yaml:7:", "0999"}},
		{"unquoted mode", head + "files:\n  - {path: out/a, template: x, mode: 0600}\n", []string{"agent.yaml:7:", "quote"}},
		{"owner that does not exist", head + "files:\n  - {path: out/a, template: x, owner: no-such-user-xyz}\n", []string{"agent.yaml:7:", "no-such-user-xyz"}},
		{"several problems at once", "version: 1\nvaults:\n  main: {url: http://a.vault.azure.net}\nsecrets:\n  a: nope/x\n  b: main/bad_name!\n",
			[]string{"agent.yaml:3:", "agent.yaml:5:", "agent.yaml:6:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			m := writeFile(t, dir, "agent.yaml", tc.manifest)
			for _, args := range [][]string{{"render", "-m", m}, {"check", "--offline", "-m", m}} {
				r := runAgent(t, nil, nil, args...)
				expectCode(t, r, 65)
				for _, want := range tc.want {
					if !strings.Contains(r.stderr, want) {
						t.Errorf("%s: stderr lacks %q:\n%s", args[0], want, r.stderr)
					}
				}
				for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
					if !strings.HasPrefix(line, "agent: error: ") && !strings.HasPrefix(line, "agent: hint: ") {
						t.Errorf("%s: stray stderr line %q", args[0], line)
					}
				}
				if strings.Contains(r.stderr, "hunter2-inline") {
					t.Errorf("the inline secret was echoed")
				}
				noFilesBut(t, dir, "agent.yaml")
			}
		})
	}
}

// TestManifestNotFound exits 66 and names the path.
func TestManifestNotFound(t *testing.T) {
	t.Parallel()
	r := runAgent(t, nil, nil, "render", "-m", "/nonexistent/agent.yaml")
	expectCode(t, r, 66)
	if !strings.Contains(r.stderr, "/nonexistent/agent.yaml") {
		t.Errorf("stderr does not name the manifest:\n%s", r.stderr)
	}
}

// TestUsageErrors: bad flags and invalid AGENT_* settings exit 64.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown command", nil, []string{"rendr"}, `unknown command "rendr"`},
		{"unknown flag", nil, []string{"render", "--nope"}, "nope"},
		{"bad timeout env", []string{"AGENT_TIMEOUT=soon"}, []string{"render"}, "AGENT_TIMEOUT"},
		{"bad log level", []string{"AGENT_LOG_LEVEL=loud"}, []string{"render"}, "AGENT_LOG_LEVEL"},
		{"bad output", nil, []string{"check", "--output", "xml"}, "xml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runAgent(t, nil, tc.env, tc.args...)
			expectCode(t, r, 64)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
		})
	}
}

// TestHelp: --help on the agent and on each command exits 0 with examples.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"render", "--help"}, {"check", "--help"}, {"emulator", "--help"}, {"version"}} {
		r := runAgent(t, nil, nil, args...)
		expectCode(t, r, 0)
		out := r.stdout + r.stderr
		if args[0] != "version" && !strings.Contains(out, "Examples") && !strings.Contains(out, "examples") {
			t.Errorf("%v: no examples in help:\n%s", args, out)
		}
		if args[0] == "version" && !strings.HasPrefix(r.stdout, "agent ") {
			t.Errorf("version output %q", r.stdout)
		}
	}
}
