package agent_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kv-agent/agent/agent/emulator"
)

// BenchmarkRender measures `agent render` (the built binary, process start
// included) for 1, 10, 50 and 200 secrets at 0, 5 and 20 ms of emulator
// latency per request, and reports the Key Vault requests each run sends
// (imds-requests/op counts the auto identity's IMDS probe and its one token
// request).
// The target at 50 secrets and 5 ms is under 40 ms, with one challenge per
// vault, one token per identity and one GET per distinct reference.
//
//	go test -run '^$' -bench BenchmarkRender -benchtime 20x ./agent/
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{1, 10, 50, 200} {
		for _, lat := range []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond} {
			b.Run(fmt.Sprintf("secrets=%d/latency=%s", n, lat), func(b *testing.B) {
				benchRender(b, n, lat)
			})
		}
	}
}

func benchRender(b *testing.B, n int, latency time.Duration) {
	dir := b.TempDir()
	var seed, manifest strings.Builder
	seed.WriteString("managedIdentities:\n  system: {}\nvaults:\n  bench:\n    access: [{identity: system, permissions: [get]}]\n    secrets:\n")
	manifest.WriteString("version: 1\nvaults:\n  v: {url: https://bench.vault.azure.net}\nsecrets:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&seed, "      s%d: value-%d\n", i, i)
		fmt.Fprintf(&manifest, "  s%d: v/s%d\n", i, i)
	}
	manifest.WriteString("files:\n  - path: out/all.env\n    format: dotenv\n")
	seedPath := writeFile(b, dir, "seed.yaml", seed.String())
	s, err := emulator.LoadSeed(seedPath)
	if err != nil {
		b.Fatal(err)
	}
	e, err := emulator.Start(context.Background(), emulator.Options{Seed: s, Latency: latency})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	m := writeFile(b, dir, "agent.yaml", manifest.String())
	env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, e.Env()...)

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		os.RemoveAll(filepath.Join(dir, "out")) // every run writes, as a fresh boot does
		cmd := exec.Command(agentBin, "render", "-m", m)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("render: %v\n%s", err, out)
		}
	}
	b.StopTimer()
	st := e.Stats()
	b.ReportMetric(float64(st.Kinds["get"])/float64(b.N), "gets/op")
	b.ReportMetric(float64(st.Kinds["challenge"])/float64(b.N), "challenges/op")
	b.ReportMetric(float64(st.Kinds["imds"])/float64(b.N), "imds-requests/op")
}
