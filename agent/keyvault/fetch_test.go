package keyvault_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/kv-agent/agent/agent/keyvault"
)

func TestFetchDeduplicatesAndChallengesOnce(t *testing.T) {
	t.Parallel()
	e := startEmulator(t, seedFor(40, ""))
	f := keyvault.New(keyvault.Options{Client: e.Client(), Concurrency: 4})
	cred := spCred(t, e, "reader", readerClient, readerSecret)
	var reqs []keyvault.Request
	for i := range 40 {
		ref := keyvault.Ref{VaultURL: vaultURL, Name: secretName(i)}
		reqs = append(reqs, keyvault.Request{Ref: ref, Credential: cred}, keyvault.Request{Ref: ref, Credential: cred})
	}
	got, err := f.Fetch(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if s := got[keyvault.Key{Ref: keyvault.Ref{VaultURL: vaultURL, Name: secretName(i)}, Identity: "reader"}]; s == nil || s.Value != value(i) || len(s.Version) != 32 {
			t.Fatalf("secret %d: %+v", i, s)
		}
	}
	st := e.Stats()
	if st.Kinds["get"] != 40 || st.Kinds["challenge"] != 1 || st.Kinds["entra-token"] != 1 {
		t.Errorf("requests: %d GETs, %d challenges, %d tokens; want 40, 1, 1", st.Kinds["get"], st.Kinds["challenge"], st.Kinds["entra-token"])
	}
	// A second fetch reuses the client: no new challenge, no new token.
	if _, err := f.Fetch(context.Background(), reqs[:2]); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.Kinds["challenge"] != 1 || st.Kinds["entra-token"] != 1 {
		t.Errorf("second fetch: %d challenges, %d tokens", st.Kinds["challenge"], st.Kinds["entra-token"])
	}
}

func TestFetchErrorKinds(t *testing.T) {
	t.Parallel()
	e2 := startEmulator(t, seedFor(2, ""))
	f := keyvault.New(keyvault.Options{Client: e2.Client()})
	reader := spCred(t, e2, "reader", readerClient, readerSecret)
	stranger := spCred(t, e2, "nobody", "66666666-1111-4666-8666-666666666666", "whatever")
	cases := []struct {
		name string
		req  keyvault.Request
		kind error
	}{
		{"not found", keyvault.Request{Ref: keyvault.Ref{VaultURL: vaultURL, Name: "missing"}, Credential: reader}, keyvault.ErrNotFound},
		{"unknown client", keyvault.Request{Ref: keyvault.Ref{VaultURL: vaultURL, Name: "s00"}, Credential: stranger}, keyvault.ErrAuthentication},
		{"foreign host", keyvault.Request{Ref: keyvault.Ref{VaultURL: "https://vault.example.com", Name: "s00"}, Credential: reader}, keyvault.ErrHostNotAllowed},
		{"plain http", keyvault.Request{Ref: keyvault.Ref{VaultURL: "http://big.vault.azure.net", Name: "s00"}, Credential: reader}, keyvault.ErrHostNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.Fetch(context.Background(), []keyvault.Request{tc.req})
			var errs keyvault.Errors
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("err = %v, want one keyvault.Error", err)
			}
			if !errors.Is(errs[0], tc.kind) {
				t.Errorf("kind = %v, want %v (%v)", errs[0].Kind, tc.kind, errs[0])
			}
			if strings.Contains(err.Error(), "VALUE-") {
				t.Errorf("error quotes a value: %v", err)
			}
		})
	}
}

func TestFetchForbiddenNamesIdentityAndHint(t *testing.T) {
	t.Parallel()
	// outsider is a registered app with no access rule on the vault.
	seed := strings.Replace(seedFor(1, ""), "servicePrincipals:\n", "servicePrincipals:\n  - {name: outsider, clientId: 77777777-1111-4777-8777-777777777777, secret: \"o\"}\n", 1)
	e := startEmulator(t, seed)
	f := keyvault.New(keyvault.Options{Client: e.Client()})
	cred := spCred(t, e, "outsider", "77777777-1111-4777-8777-777777777777", "o")
	_, err := f.Fetch(context.Background(), []keyvault.Request{{Ref: keyvault.Ref{VaultURL: vaultURL, Name: "s00"}, Credential: cred}})
	var errs keyvault.Errors
	if !errors.As(err, &errs) || !errors.Is(errs[0], keyvault.ErrForbidden) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(errs[0].Error(), `identity "outsider"`) || !strings.Contains(errs[0].Error(), "ForbiddenByRbac") {
		t.Errorf("message %q", errs[0].Error())
	}
	if h := errs[0].Hint(); !strings.Contains(h, "Key Vault Secrets User") || !strings.Contains(h, "big") {
		t.Errorf("hint %q", h)
	}
}

func TestFetchExpiryAndNotBefore(t *testing.T) {
	t.Parallel()
	seed := strings.Replace(seedFor(0, ""), "    secrets:\n", `    secrets:
      old: {value: expired-VALUE, expires: 2020-01-01T00:00:00Z}
      future: {value: future-VALUE, notBefore: 2999-01-01T00:00:00Z}
`, 1)
	e := startEmulator(t, seed)
	f := keyvault.New(keyvault.Options{Client: e.Client()})
	cred := spCred(t, e, "reader", readerClient, readerSecret)
	ref := func(n string) keyvault.Ref { return keyvault.Ref{VaultURL: vaultURL, Name: n} }
	_, err := f.Fetch(context.Background(), []keyvault.Request{{Ref: ref("old"), Credential: cred}, {Ref: ref("future"), Credential: cred}})
	var errs keyvault.Errors
	if !errors.As(err, &errs) || len(errs) != 2 || !errors.Is(errs[1], keyvault.ErrExpired) || !errors.Is(errs[0], keyvault.ErrNotYetValid) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "-VALUE") {
		t.Errorf("error quotes a value: %v", err)
	}
	got, err := f.Fetch(context.Background(), []keyvault.Request{{Ref: ref("old"), Credential: cred, AllowExpired: true}})
	if s := got[keyvault.Key{Ref: ref("old"), Identity: "reader"}]; err != nil || s == nil || s.Value != "expired-VALUE" {
		t.Errorf("allowExpired: %v", err)
	}
}

// TestHostGuardStopsTokens: a request to a host outside the suffix (as a
// foreign nextLink would be) fails before the pipeline reaches the
// transport, so no token is ever sent there.
func TestHostGuardStopsTokens(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url string
		ok  bool
	}{
		{"https://big.vault.azure.net/secrets?api-version=1", true},
		{"https://big.vault.azure.net:443/secrets?$skiptoken=x", true},
		{"https://big.vault.azure.net:8443/secrets", false},
		{"http://big.vault.azure.net/secrets", false},
		{"https://evil.example.com/secrets", false},
		{"https://big.vault.azure.net.evil.com/secrets", false},
		{"https://a.b.vault.azure.net/secrets", false},
		{"https://other.vault.azure.net/secrets?$skiptoken=x", false}, // a nextLink to another vault
		{"https://BIG.vault.azure.net/secrets", true},
		{"https://vault.azure.net/secrets", false},
	}
	for _, tc := range cases {
		sent := false
		transport := transportFunc(func(r *http.Request) (*http.Response, error) {
			sent = true
			return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
		})
		pl := runtime.NewPipeline("test", "v1", runtime.PipelineOptions{}, &policy.ClientOptions{
			PerCallPolicies: []policy.Policy{keyvault.HostGuard("vault.azure.net", "big.vault.azure.net")},
			Transport:       transport,
			Retry:           policy.RetryOptions{MaxRetries: -1},
		})
		req, err := runtime.NewRequest(context.Background(), http.MethodGet, tc.url)
		if err != nil {
			t.Fatal(err)
		}
		_, err = pl.Do(req)
		if (err == nil) != tc.ok || sent != tc.ok {
			t.Errorf("%s: err=%v sent=%v, want ok=%v", tc.url, err, sent, tc.ok)
		}
	}
}

type transportFunc func(*http.Request) (*http.Response, error)

func (f transportFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// inFlight counts the requests a transport has in flight and remembers
// the most it had at once.
type inFlight struct {
	next     http.RoundTripper
	mu       sync.Mutex
	now, max int
}

func (c *inFlight) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.now++
	c.max = max(c.max, c.now)
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.now--; c.mu.Unlock() }()
	return c.next.RoundTrip(r)
}

// TestFetchBoundsRequestsPerVault: a vault never has more than
// Concurrency requests in flight (the vault's semaphore), and the bound is
// used, not undershot (the worker pool is as large as the bound).
func TestFetchBoundsRequestsPerVault(t *testing.T) {
	t.Parallel()
	seed := seedFor(30, "") + "latency: 20ms\n"
	e := startEmulator(t, seed)
	counter := &inFlight{next: e.Client().Transport}
	f := keyvault.New(keyvault.Options{Client: &http.Client{Transport: counter}, Concurrency: 5})
	cred := spCred(t, e, "reader", readerClient, readerSecret)
	var reqs []keyvault.Request
	for i := range 30 {
		reqs = append(reqs, keyvault.Request{Ref: keyvault.Ref{VaultURL: vaultURL, Name: secretName(i)}, Credential: cred})
	}
	got, err := f.Fetch(context.Background(), reqs)
	if err != nil || len(got) != 30 {
		t.Fatalf("got %d secrets, err %v", len(got), err)
	}
	// The token requests go through another client; only Key Vault's are
	// counted here.
	if counter.max != 5 {
		t.Errorf("at most %d requests were in flight to the vault, want exactly the bound 5", counter.max)
	}
}
