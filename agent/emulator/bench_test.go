package emulator

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// BenchmarkProxyGetSecret measures Key Vault GETs through the proxy over
// keep-alive TLS tunnels at zero added latency, from parallel clients
// (the target: <= 1 ms per request, >= 2,000 GETs/s on 2 cores).
//
//	go test ./agent/emulator -run '^$' -bench ProxyGetSecret -cpu 2
func BenchmarkProxyGetSecret(b *testing.B) {
	e := start(b, Options{})
	token := imdsToken(b, e, "")
	c := e.Client()
	url := testVaultURL + "/secrets/db-password/?api-version=2026-04-01"
	get := func() error {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	if err := get(); err != nil { // warm: tunnel, leaf certificate
		b.Fatal(err)
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := get(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "GETs/s")
}

// BenchmarkRoundTrip measures what one round trip to a vault costs
// through the emulator on this machine, over a warm HTTP/2 connection:
// an op is one wave of GETs sent together (1 or 16) and all their
// answers, at 5 ms of latency. Anything above 5 ms is the emulator, the
// loopback and waking idle threads; a render of 50 secrets at 16 in
// flight needs five such waves in a row (challenge, then 16+16+16+2).
//
//	go test -run '^$' -bench BenchmarkRoundTrip -benchtime 200x ./agent/emulator/
func BenchmarkRoundTrip(b *testing.B) {
	for _, wave := range []int{1, 16} {
		b.Run(fmt.Sprintf("latency=5ms/in-flight=%d", wave), func(b *testing.B) {
			e := start(b, Options{Latency: 5 * time.Millisecond})
			token := imdsToken(b, e, "")
			c := e.Client()
			get := func() {
				req, _ := http.NewRequest("GET", testVaultURL+"/secrets/db-password/?api-version=2026-04-01", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := c.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
				}
			}
			get() // warm: tunnel, leaf certificate, token check
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var wg sync.WaitGroup
				for range wave {
					wg.Go(get)
				}
				wg.Wait()
			}
		})
	}
}
