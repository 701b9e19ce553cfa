package agent_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/emulator"
)

// agentBin is the agent binary built once for the end-to-end tests.
var agentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "agent-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBin = filepath.Join(dir, "agent")
	// AGENT_TEST_RACE=1 builds the binary with the race detector, so the
	// end-to-end tests also check the agent's own goroutines.
	args := []string{"build", "-o", agentBin}
	if os.Getenv("AGENT_TEST_RACE") == "1" {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "../cmd/agent")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build agent:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Identities used across the seeds of these tests.
const (
	tenantID     = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	systemClient = "11111111-1111-4111-8111-111111111111"
	systemObject = "11111111-2222-4111-8111-111111111111"
	billClient   = "22222222-1111-4222-8222-222222222222"
	billObject   = "22222222-2222-4222-8222-222222222222"
	billResource = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/billing"
	spClient     = "33333333-1111-4333-8333-333333333333"
	spSecret     = "sp-client-secret-value-Q7x"
	wiClient     = "44444444-1111-4444-8444-444444444444"
)

// startEmulator starts an in-process emulator from seed YAML. {{dir}} in
// the seed is replaced by a temporary directory the test can write files to.
func startEmulator(t testing.TB, seedYAML string, dir string) *emulator.Emulator {
	t.Helper()
	seedYAML = strings.ReplaceAll(seedYAML, "{{dir}}", dir)
	path := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(path, []byte(seedYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	seed, err := emulator.LoadSeed(path)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	e, err := emulator.Start(context.Background(), emulator.Options{Seed: seed})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// result is one run of the agent binary.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runAgent runs the built agent with a clean environment: PATH, HOME, the
// emulator's variables (when e is not nil) and extra.
func runAgent(t testing.TB, e *emulator.Emulator, extra []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, agentBin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	if e != nil {
		cmd.Env = append(cmd.Env, e.Env()...)
	}
	cmd.Env = append(cmd.Env, extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("run agent: %v", err)
	}
	return r
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// expectCode fails the test unless r exited with code.
func expectCode(t testing.TB, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got %s", code, r)
	}
}

// noFiles fails the test if dir holds any file (other than the listed ones).
func noFilesBut(t testing.TB, dir string, allowed ...string) {
	t.Helper()
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if !ok[rel] {
			t.Errorf("unexpected file %s", rel)
		}
		return nil
	})
}
