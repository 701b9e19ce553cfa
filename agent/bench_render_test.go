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
// BenchmarkRenderFloor measures the same round trips made by a client that
// does nothing else, which is the least any client can take here.
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
	dir, m, e, env := benchSetup(b, n, latency)
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

// benchSetup starts an emulator with one vault of n secrets and the given
// latency, and writes a manifest that renders them all into one file. It
// returns the directory, the manifest, the emulator and the environment
// that points a process at it.
func benchSetup(b *testing.B, n int, latency time.Duration) (dir, manifest string, e *emulator.Emulator, env []string) {
	b.Helper()
	dir = b.TempDir()
	var seed, man strings.Builder
	seed.WriteString("managedIdentities:\n  system: {}\nvaults:\n  bench:\n    access: [{identity: system, permissions: [get]}]\n    secrets:\n")
	man.WriteString("version: 1\nvaults:\n  v: {url: https://bench.vault.azure.net}\nsecrets:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&seed, "      s%d: value-%d\n", i, i)
		fmt.Fprintf(&man, "  s%d: v/s%d\n", i, i)
	}
	man.WriteString("files:\n  - path: out/all.env\n    format: dotenv\n")
	s, err := emulator.LoadSeed(writeFile(b, dir, "seed.yaml", seed.String()))
	if err != nil {
		b.Fatal(err)
	}
	e, err = emulator.Start(context.Background(), emulator.Options{Seed: s, Latency: latency})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	manifest = writeFile(b, dir, "agent.yaml", man.String())
	env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, e.Env()...)
	return dir, manifest, e, env
}

// BenchmarkRenderFloor runs testdata/floorclient on the same grid as
// BenchmarkRender: the same round trips (IMDS token and challenge at once,
// then one GET per secret, 16 in flight) with nothing else — no SDK, no
// manifest, no files. Its time is the floor this machine and the emulator
// set; the difference to BenchmarkRender is what the agent itself costs.
//
//	go test -run '^$' -bench 'BenchmarkRender(Floor)?/secrets=50/latency=5ms' -benchtime 40x ./agent/
func BenchmarkRenderFloor(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "floorclient")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/floorclient").CombinedOutput(); err != nil {
		b.Fatalf("build floorclient: %v\n%s", err, out)
	}
	for _, n := range []int{1, 10, 50, 200} {
		for _, lat := range []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond} {
			b.Run(fmt.Sprintf("secrets=%d/latency=%s", n, lat), func(b *testing.B) {
				_, _, _, env := benchSetup(b, n, lat)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					cmd := exec.Command(bin, "https://bench.vault.azure.net", fmt.Sprint(n), "16")
					cmd.Env = env
					if out, err := cmd.CombinedOutput(); err != nil {
						b.Fatalf("floorclient: %v\n%s", err, out)
					}
				}
			})
		}
	}
}
