package agent_test

import (
	"fmt"
	"os/exec"
	"testing"
	"time"
)

// BenchmarkRunTrue measures `agent run -- /bin/true` (the built binary,
// process start and exec included) with 50 Key Vault references in its
// environment and no manifest, at 5 ms of emulator latency per request.
// The target is under 40 ms per run, as for render.
//
//	go test -run '^$' -bench BenchmarkRunTrue -benchtime 20x ./agent/
func BenchmarkRunTrue(b *testing.B) {
	const n = 50
	_, _, e, env := benchSetup(b, n, 5*time.Millisecond)
	for i := 0; i < n; i++ {
		env = append(env, fmt.Sprintf("SECRET_%d=@Microsoft.KeyVault(SecretUri=https://bench.vault.azure.net/secrets/s%d)", i, i))
	}
	dir := b.TempDir() // no agent.yaml here: the references are all there is

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(agentBin, "run", "--", "/bin/true")
		cmd.Env, cmd.Dir = env, dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("run: %v\n%s", err, out)
		}
	}
	b.StopTimer()
	st := e.Stats()
	if got := st.Kinds["get"]; got != n*b.N {
		b.Errorf("%d GETs in %d runs, want %d per run", got, b.N, n)
	}
	b.ReportMetric(float64(st.Kinds["get"])/float64(b.N), "gets/op")
	b.ReportMetric(float64(st.Kinds["imds"])/float64(b.N), "imds-requests/op")
}
