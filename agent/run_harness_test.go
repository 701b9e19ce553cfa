package agent_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kv-agent/agent/agent/emulator"
)

// The child program (testdata/child) that agent run execs in these tests,
// built once next to the agent binary.
var (
	childOnce sync.Once
	childPath string
	childErr  error
)

// childBin returns the path of the child program. Its directory (the
// agent binary's) is made readable by every user, for the --user tests.
func childBin(t testing.TB) string {
	t.Helper()
	childOnce.Do(func() {
		dir := filepath.Dir(agentBin)
		childPath = filepath.Join(dir, "child")
		out, err := exec.Command("go", "build", "-o", childPath, "./testdata/child").CombinedOutput()
		if err != nil {
			childErr = &buildError{out: string(out), err: err}
			return
		}
		childErr = os.Chmod(dir, 0o755)
	})
	if childErr != nil {
		t.Fatalf("build child: %v", childErr)
	}
	return childPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// startRunEmulator starts an emulator with the render tests' seed (its
// identities and vaults), writing the service principal's files to dir.
func startRunEmulator(t *testing.T, dir string) *emulator.Emulator {
	t.Helper()
	writeSPFiles(t, dir)
	return startEmulator(t, seedText("", ""), dir)
}

// baseEnv is the environment runAgent gives the agent, with HOME fixed
// (later entries win) so that the child's environment is predictable.
func baseEnv(e *emulator.Emulator, home string) map[string]string {
	env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": home}
	if e != nil {
		for k, v := range envMapOf(e.Env()) {
			env[k] = v
		}
	}
	return env
}

func envMapOf(environ []string) map[string]string {
	m := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// readEnv reads the environment the child wrote with "env FILE".
func readEnv(t testing.TB, path string) map[string]string {
	t.Helper()
	var env map[string]string
	if err := json.Unmarshal([]byte(readFile(t, path)), &env); err != nil {
		t.Fatalf("child environment: %v", err)
	}
	return env
}

// diffEnv returns the differences between got and want, naming variables
// and showing values only for variables that hold no secret.
func diffEnv(got, want map[string]string) []string {
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+k)
		case g != w:
			diffs = append(diffs, k+": got "+shown(g)+", want "+shown(w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "unexpected "+k+"="+shown(got[k]))
		}
	}
	return diffs
}

// shown prints a value in a test failure, unless it is a seeded secret.
func shown(v string) string {
	for _, s := range seededValues {
		if strings.Contains(v, s) {
			return "<secret value>"
		}
	}
	return "\"" + v + "\""
}

// noMarker fails the test if the child ran far enough to create marker.
func noMarker(t testing.TB, marker string) {
	t.Helper()
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("the child was started (%s exists)", marker)
	}
}

// noOutputs fails the test if the manifest's files (under dir/out) were
// written.
func noOutputs(t testing.TB, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Errorf("a failed run wrote %s/out", dir)
	}
}
