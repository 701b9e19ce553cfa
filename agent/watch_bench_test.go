package agent_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkWatchRSS runs `agent watch` with 200 references in one vault
// of 200 secrets, checking every millisecond, and reports its resident
// memory after 1,000 and after 10,000 checks (the target: flat, and under
// 30 MB). It runs once whatever b.N is and takes a few minutes:
//
//	go test ./agent -run '^$' -bench WatchRSS -benchtime 1x
func BenchmarkWatchRSS(b *testing.B) {
	const refs = 200
	dir := b.TempDir()
	var seed, manifest strings.Builder
	for i := range refs {
		fmt.Fprintf(&seed, "      bench-%03d: \"bench-value-%03d\"\n", i, i)
	}
	e := startEmulator(b, watchSeed("", "")+"  bench:\n    secrets:\n"+seed.String()+
		"    access:\n      - {identity: system, permissions: [get, list]}\n", dir)
	manifest.WriteString("version: 1\nvaults:\n  bench: {url: https://bench.vault.azure.net}\nsecrets:\n")
	for i := range refs {
		fmt.Fprintf(&manifest, "  s%03d: bench/bench-%03d\n", i, i)
	}
	manifest.WriteString("files:\n  - {path: out/all.env, format: dotenv}\n")
	for i := 0; i < refs; i += 20 {
		fmt.Fprintf(&manifest, "  - {path: out/f%03d.txt, template: '{{ secret \"s%03d\" }}'}\n", i, i)
	}
	mf := writeFile(b, dir, "agent.yaml", manifest.String())
	p := startWatch(b, e, []string{"AGENT_TESTONLY_WATCH_INTERVAL=1ms"}, "-m", mf)
	pid := p.cmd.Process.Pid
	rssAt := map[int]float64{}
	start := time.Now()
	for _, n := range []int{1000, 10000} {
		waitFor(b, 30*time.Minute, strconv.Itoa(n)+" checks", func() bool {
			time.Sleep(200 * time.Millisecond)
			return p.metric("agent_checks_total") >= float64(n)
		})
		rssAt[n] = vmRSS(b, pid)
		b.Logf("after %d checks (%s): VmRSS %.1f MB", n, time.Since(start).Round(time.Second), rssAt[n])
	}
	if errs := p.metric("agent_check_errors_total"); errs > 0 {
		b.Errorf("%v checks failed:\n%s", errs, p.stderr)
	}
	requests := p.metric(`agent_keyvault_requests_total{code="200",operation="list"}`) + p.metric(`agent_keyvault_requests_total{code="200",operation="get"}`)
	b.ReportMetric(rssAt[1000], "MB-rss-1k-checks")
	b.ReportMetric(rssAt[10000], "MB-rss-10k-checks")
	b.ReportMetric(requests/p.metric("agent_checks_total"), "kv-requests/check")
	if rssAt[10000] > 30 {
		b.Errorf("VmRSS %.1f MB after 10,000 checks; want under 30 MB", rssAt[10000])
	}
	p.stop()
}

// vmRSS reads a process's resident set size in MB from /proc.
func vmRSS(tb testing.TB, pid int) float64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb / 1024
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}

// BenchmarkWatchRotation measures the time from a new version being set
// in Key Vault to `agent watch` having rewritten the file, with a 1 s
// interval and no jitter (the target: under one interval + 1 s). Each op
// is one rotation, timed from the operator's PUT being answered and set
// at a random moment of the interval (rotating right after each rewrite
// would always land just after a check); the emulator adds 5 ms to every
// request. It reports the mean and the worst.
//
//	go test ./agent -run '^$' -bench WatchRotation -benchtime 10x
func BenchmarkWatchRotation(b *testing.B) {
	dir := b.TempDir()
	e := startEmulator(b, watchSeed("latency: 5ms\n", ""), dir)
	mf := writeFile(b, dir, "agent.yaml", watchManifest(dir, "watch: {interval: 1s, jitter: 0}\n"))
	startWatch(b, e, nil, "-m", mf)
	dbFile := filepath.Join(dir, "out/db.txt")
	waitFor(b, 10*time.Second, "the first render", func() bool { return readOrEmpty(dbFile) != "" })
	var worst, total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		time.Sleep(rand.N(time.Second))
		value := fmt.Sprintf("db-rotated-%d", i)
		setSecret(b, e, "db-password", value)
		set := time.Now() // the version exists once the operator's PUT is answered
		waitFor(b, 10*time.Second, "the rewrite", func() bool { return readOrEmpty(dbFile) == "db="+value })
		took := time.Since(set)
		worst, total = max(worst, took), total+took
	}
	b.StopTimer()
	b.ReportMetric(total.Seconds()*1000/float64(b.N), "mean-ms")
	b.ReportMetric(worst.Seconds()*1000, "worst-ms")
}
