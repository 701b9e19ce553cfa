package agent_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/kv-agent/agent/agent/emulator"
	"github.com/kv-agent/agent/agent/internal/syncbuf"
)

// The watch tests' operator: a service principal that may set secrets.
const (
	adminClient = "66666666-1111-4666-8666-666666666666"
	adminSecret = "admin-sp-secret-value-K2w"
)

// watchSeed is the seed of the watch tests; top is added at the top level
// and vault under the contoso vault (limit:, faults:).
func watchSeed(top, vault string) string {
	return top + `tenant: ` + tenantID + `
managedIdentities:
  system: {clientId: ` + systemClient + `, objectId: ` + systemObject + `}
servicePrincipals:
  - {name: admin, clientId: ` + adminClient + `, secret: "` + adminSecret + `"}
vaults:
  contoso:
    secrets:
      db-password: "db-OLD-value-1f2e"
      api-key: "api-OLD-value-3d4c"
      unused: "unused-OLD-value-5b6a"
      elsewhere: "elsewhere-OLD-value-7988"
    access:
      - {identity: system, permissions: [get, list]}
      - {identity: admin, permissions: [get, list, set]}
` + vault
}

// watchValues are every value the watch tests put in a vault.
var watchValues = []string{"db-OLD-value-1f2e", "api-OLD-value-3d4c", "unused-OLD-value-5b6a", "elsewhere-OLD-value-7988",
	"db-NEW-value-a1b2", "db-NEWER-value-c3d4", "unused-NEW-value-e5f6", "elsewhere-NEW-value-0a0b", adminSecret}

// setSecret sets a new current version of a contoso secret, as an operator
// rotating it would. A vault's request limit counts the operator's
// requests too, and a throttled agent keeps asking once a second, so the
// operator asks again every 250 ms while the vault answers 429, for up to
// a minute (several of the limit's 10 s windows).
func setSecret(t testing.TB, e *emulator.Emulator, name, value string) {
	t.Helper()
	opts := azcore.ClientOptions{Transport: e.Client()}
	cred, err := azidentity.NewClientSecretCredential(tenantID, adminClient, adminSecret, &azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	opts.Retry = policy.RetryOptions{MaxRetries: -1} // 429s are retried below
	c, err := azsecrets.NewClient("https://contoso.vault.azure.net", cred, &azsecrets.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := c.SetSecret(context.Background(), name, azsecrets.SetSecretParameters{Value: &value}, nil)
		var re *azcore.ResponseError
		if err == nil || !errors.As(err, &re) || re.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("set %s: %v", name, err)
			}
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// watchProc is a running `agent watch`.
type watchProc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	done   chan struct{}
	code   int
	addr   string // of --listen, when given
}

// startWatch starts `agent watch --listen 127.0.0.1:0 args…` with a clean
// environment (PATH, HOME, the emulator's variables, extra) and waits for
// its listener. It is stopped with SIGTERM when the test ends.
func startWatch(t testing.TB, e *emulator.Emulator, extra []string, args ...string) *watchProc {
	t.Helper()
	return startListening(t, e, extra, append([]string{"watch", "--listen", "127.0.0.1:0"}, args...))
}

// startListening starts the agent with args, which make it serve health
// and metrics, and waits until it logs the listener's address.
func startListening(t testing.TB, e *emulator.Emulator, extra, args []string) *watchProc {
	t.Helper()
	cmd := exec.Command(agentBin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, e.Env()...)
	cmd.Env = append(cmd.Env, extra...)
	p := &watchProc{t: t, cmd: cmd, stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = io.Discard, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() { p.stop() })
	addrRE := regexp.MustCompile(`msg="serving health and metrics" addr=(\S+)`)
	waitFor(t, 20*time.Second, "the agent's listener", func() bool {
		if m := addrRE.FindStringSubmatch(p.stderr.String()); m != nil {
			p.addr = m[1]
			return true
		}
		select {
		case <-p.done:
			t.Fatalf("agent %s exited with %d:\n%s", args[0], p.code, p.stderr)
		default:
		}
		return false
	})
	return p
}

// stop sends SIGTERM and waits for the exit; it returns the exit code.
func (p *watchProc) stop() int {
	select {
	case <-p.done:
		return p.code
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Errorf("agent watch ignored SIGTERM:\n%s", p.stderr)
	}
	return p.code
}

// get fetches an endpoint of the agent's listener.
func (p *watchProc) get(path string) (int, string) {
	p.t.Helper()
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric returns the value of one sample of /metrics (0 when absent).
func (p *watchProc) metric(sample string) float64 {
	p.t.Helper()
	_, body := p.get("/metrics")
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			v, _ := strconv.ParseFloat(rest, 64)
			return v
		}
	}
	return 0
}

// waitChecks waits until n more checks have completed than when called.
func (p *watchProc) waitChecks(n int) {
	p.t.Helper()
	start := p.metric("agent_checks_total")
	waitFor(p.t, 30*time.Second, strconv.Itoa(n)+" more checks", func() bool {
		return p.metric("agent_checks_total") >= start+float64(n)
	})
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readOrEmpty returns the file's content, or "" when it cannot be read.
func readOrEmpty(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// lineCount counts the lines of a file ("" and missing count 0).
func lineCount(path string) int {
	return strings.Count(readOrEmpty(path), "\n")
}
