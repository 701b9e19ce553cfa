package keyvault_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/kv-agent/agent/agent/emulator"
	"github.com/kv-agent/agent/agent/internal/syncbuf"
	"github.com/kv-agent/agent/agent/keyvault"
)

const (
	testTenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	readerClient = "33333333-1111-4333-8333-333333333333"
	readerSecret = "reader-client-secret-Q7x"
	getterClient = "44444444-1111-4444-8444-444444444444"
	getterSecret = "getter-client-secret-R8y"
	adminClient  = "55555555-1111-4555-8555-555555555555"
	adminSecret  = "admin-client-secret-S9z"
	vaultURL     = "https://big.vault.azure.net"
)

// seedFor returns a seed with vault "big" holding n secrets s00… whose
// values are value(i), readable (get, list) by "reader", only gettable by
// "getter", and writable by "admin". vaultExtra is added under the vault.
func seedFor(n int, vaultExtra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tenant: %s\nservicePrincipals:\n", testTenant)
	fmt.Fprintf(&b, "  - {name: reader, clientId: %s, secret: %q}\n", readerClient, readerSecret)
	fmt.Fprintf(&b, "  - {name: getter, clientId: %s, secret: %q}\n", getterClient, getterSecret)
	fmt.Fprintf(&b, "  - {name: admin, clientId: %s, secret: %q}\n", adminClient, adminSecret)
	b.WriteString("vaults:\n  big:\n    secrets:\n")
	for i := range n {
		fmt.Fprintf(&b, "      %s: %q\n", secretName(i), value(i))
	}
	b.WriteString("    access:\n")
	b.WriteString("      - {identity: reader, permissions: [get, list]}\n")
	b.WriteString("      - {identity: getter, permissions: [get]}\n")
	b.WriteString("      - {identity: admin, permissions: [get, list, set]}\n")
	b.WriteString(vaultExtra)
	return b.String()
}

func secretName(i int) string { return fmt.Sprintf("s%02d", i) }
func value(i int) string      { return fmt.Sprintf("VALUE-%02d-never-logged-9f3", i) }

func startEmulator(t testing.TB, seedText string) *emulator.Emulator {
	t.Helper()
	seed, err := emulator.ParseSeed("seed.yaml", []byte(seedText))
	if err != nil {
		t.Fatal(err)
	}
	e, err := emulator.Start(context.Background(), emulator.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// namedCred gives an azidentity credential the Name a Fetcher needs.
type namedCred struct {
	azcore.TokenCredential
	name string
}

func (c namedCred) Name() string { return c.name }

func spCred(t testing.TB, e *emulator.Emulator, name, clientID, secret string) namedCred {
	t.Helper()
	c, err := azidentity.NewClientSecretCredential(testTenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{Transport: e.Client()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return namedCred{c, name}
}

// setSecret sets a new current version of name, as an operator would.
func setSecret(t testing.TB, e *emulator.Emulator, name, val string) {
	t.Helper()
	admin := spCred(t, e, "admin", adminClient, adminSecret)
	c, err := azsecrets.NewClient(vaultURL, admin, &azsecrets.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: e.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetSecret(context.Background(), name, azsecrets.SetSecretParameters{Value: &val}, nil); err != nil {
		t.Fatal(err)
	}
}

// holdAll fetches n references with cred and returns them as held.
func holdAll(t testing.TB, f *keyvault.Fetcher, cred keyvault.Credential, n int) []keyvault.Held {
	t.Helper()
	var reqs []keyvault.Request
	for i := range n {
		reqs = append(reqs, keyvault.Request{Ref: keyvault.Ref{VaultURL: vaultURL, Name: secretName(i)}, Credential: cred})
	}
	got, err := f.Fetch(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	held := make([]keyvault.Held, len(reqs))
	for i, r := range reqs {
		held[i] = keyvault.Held{Request: r, Secret: got[keyvault.Key{Ref: r.Ref, Identity: cred.Name()}]}
	}
	return held
}

func kvRequests(s emulator.Stats) int {
	return s.Kinds["get"] + s.Kinds["list"] + s.Kinds["versions"]
}

func TestCheckBudget(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, seedFor(50, ""))
	f := keyvault.New(keyvault.Options{Client: e.Client()})
	c := keyvault.NewChecker(f)
	held := holdAll(t, f, spCred(t, e, "reader", readerClient, readerSecret), 50)
	for i := range 3 {
		before := kvRequests(e.Stats())
		ch, err := c.Check(context.Background(), held)
		if err != nil {
			t.Fatal(err)
		}
		sent := kvRequests(e.Stats()) - before
		if sent > 2 || ch.Requests != sent {
			t.Errorf("check %d: %d requests reached Key Vault, Requests says %d; want at most 2", i, sent, ch.Requests)
		}
		if len(ch.Changed) != 0 {
			t.Errorf("check %d: nothing changed, got %d changes", i, len(ch.Changed))
		}
		if got := ch.Strategies[vaultURL+" reader"]; got != keyvault.StrategyList {
			t.Errorf("check %d: strategy %q, want list", i, got)
		}
	}
}

func TestCheckDetectsNewVersion(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, seedFor(50, ""))
	f := keyvault.New(keyvault.Options{Client: e.Client()})
	c := keyvault.NewChecker(f)
	held := holdAll(t, f, spCred(t, e, "reader", readerClient, readerSecret), 50)
	setSecret(t, e, "s07", "ROTATED-never-logged-1a")
	ch, err := c.Check(context.Background(), held)
	if err != nil {
		t.Fatal(err)
	}
	ref := keyvault.Ref{VaultURL: vaultURL, Name: "s07"}
	if len(ch.Changed) != 1 || ch.Changed[ref] == nil {
		t.Fatalf("want only s07 changed, got %v", keys(ch.Changed))
	}
	if got := ch.Changed[ref]; got.Value != "ROTATED-never-logged-1a" || got.Version == held[7].Secret.Version {
		t.Errorf("s07: got version %s (held %s)", got.Version, held[7].Secret.Version)
	}
	if ch.Requests != 3 { // two pages and one get
		t.Errorf("Requests = %d, want 3", ch.Requests)
	}
}

func TestCheckStrategies(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, seedFor(60, ""))
	tests := []struct {
		name      string
		cred      func() keyvault.Credential
		refs      int
		pin       bool
		wantFirst string // strategy of the first check
		wantLater string // of the second
		maxLater  int    // requests of the second check
	}{
		{"few references: get each", func() keyvault.Credential { return spCred(t, e, "reader", readerClient, readerSecret) }, 1, false, keyvault.StrategyGet, keyvault.StrategyGet, 1},
		{"list refused: fall back to get", func() keyvault.Credential { return spCred(t, e, "getter", getterClient, getterSecret) }, 4, false, keyvault.StrategyGet, keyvault.StrategyGet, 4},
		{"listing dearer than gets: get", func() keyvault.Credential { return spCred(t, e, "reader", readerClient, readerSecret) }, 2, false, keyvault.StrategyList, keyvault.StrategyGet, 2},
		{"pinned versions are never polled", func() keyvault.Credential { return spCred(t, e, "reader", readerClient, readerSecret) }, 5, true, "", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := keyvault.New(keyvault.Options{Client: e.Client()})
			c := keyvault.NewChecker(f)
			cred := tc.cred()
			// The references are the vault's last ones, so that a listing
			// needs every page.
			var held []keyvault.Held
			for i := 60 - tc.refs; i < 60; i++ {
				r := keyvault.Request{Ref: keyvault.Ref{VaultURL: vaultURL, Name: secretName(i)}, Credential: cred}
				got, err := f.Fetch(context.Background(), []keyvault.Request{r})
				if err != nil {
					t.Fatal(err)
				}
				s := got[keyvault.Key{Ref: r.Ref, Identity: cred.Name()}]
				if tc.pin {
					r.Ref.Version = s.Version
				}
				held = append(held, keyvault.Held{Request: r, Secret: s})
			}
			first, err := c.Check(context.Background(), held)
			if err != nil {
				t.Fatal(err)
			}
			second, err := c.Check(context.Background(), held)
			if err != nil {
				t.Fatal(err)
			}
			k := vaultURL + " " + cred.Name()
			if first.Strategies[k] != tc.wantFirst || second.Strategies[k] != tc.wantLater {
				t.Errorf("strategies %q then %q, want %q then %q", first.Strategies[k], second.Strategies[k], tc.wantFirst, tc.wantLater)
			}
			if second.Requests != tc.maxLater || len(first.Changed)+len(second.Changed) != 0 {
				t.Errorf("second check: %d requests (want %d), changes %d %d", second.Requests, tc.maxLater, len(first.Changed), len(second.Changed))
			}
		})
	}
}

// TestCheckNeverLeaks runs checks that fail in every way and checks that
// neither errors nor debug logs carry a value.
func TestCheckNeverLeaks(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, seedFor(30, "    faults: {rate: 0.5, kinds: [500, 429, reset]}\n"))
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := keyvault.New(keyvault.Options{Client: e.Client(), Logger: log,
		Retry: policy.RetryOptions{MaxRetries: 1, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond}})
	c := keyvault.NewChecker(f)
	var errText strings.Builder
	for _, cred := range []keyvault.Credential{spCred(t, e, "reader", readerClient, readerSecret), spCred(t, e, "getter", getterClient, getterSecret)} {
		var held []keyvault.Held
		for i := range 30 {
			held = append(held, keyvault.Held{Request: keyvault.Request{Ref: keyvault.Ref{VaultURL: vaultURL, Name: secretName(i)}, Credential: cred}})
		}
		held = append(held, keyvault.Held{Request: keyvault.Request{Ref: keyvault.Ref{VaultURL: vaultURL, Name: "missing"}, Credential: cred}})
		for range 3 {
			ch, err := c.Check(context.Background(), held)
			if err != nil {
				errText.WriteString(err.Error())
			}
			for _, s := range ch.Changed {
				held = append(held, keyvault.Held{Request: keyvault.Request{Ref: s.Ref, Credential: cred}, Secret: s})
			}
		}
	}
	if errText.Len() == 0 {
		t.Fatal("faults at rate 0.5 with one retry produced no error; the test checks nothing")
	}
	for i := range 30 {
		if strings.Contains(errText.String(), value(i)) || strings.Contains(logs.String(), value(i)) {
			t.Fatalf("value of %s leaked", secretName(i))
		}
	}
	for _, s := range []string{readerSecret, getterSecret} {
		if strings.Contains(errText.String()+logs.String(), s) {
			t.Fatal("a client secret leaked")
		}
	}
}

func keys(m map[keyvault.Ref]*keyvault.Secret) []string {
	var out []string
	for r := range m {
		out = append(out, r.Name)
	}
	return out
}

// BenchmarkCheckNothingChanged measures a check of 50 references in a
// vault of 50 secrets when nothing changed; it reports the Key Vault
// requests per check (the budget is 2).
func BenchmarkCheckNothingChanged(b *testing.B) {
	e := startEmulator(b, seedFor(50, ""))
	var observed int
	var mu sync.Mutex
	f := keyvault.New(keyvault.Options{Client: e.Client(), Observe: func(op string, status int) { mu.Lock(); observed++; mu.Unlock() }})
	c := keyvault.NewChecker(f)
	held := holdAll(b, f, spCred(b, e, "reader", readerClient, readerSecret), 50)
	before := kvRequests(e.Stats())
	mu.Lock()
	observed = 0
	mu.Unlock()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Check(context.Background(), held); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(kvRequests(e.Stats())-before)/float64(b.N), "kv-requests/check")
	mu.Lock()
	b.ReportMetric(float64(observed)/float64(b.N), "observed/check")
	mu.Unlock()
}
