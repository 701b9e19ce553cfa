package keyvault

import (
	"context"
	"errors"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// Ways a Checker looks for new versions in one vault.
const (
	// StrategyList lists the vault's secret properties (25 per page, no
	// values) and gets only the references whose properties changed.
	StrategyList = "list"
	// StrategyGet gets every reference.
	StrategyGet = "get"
)

// Held is a reference the caller holds a secret version for.
type Held struct {
	Request
	// Secret is what the caller has. Nil means it has nothing: the
	// reference is got and reported as changed.
	Secret *Secret
}

// Changes is the outcome of one [Checker.Check].
type Changes struct {
	// Changed holds, for each reference whose current version or
	// attributes differ from what the caller held, the secret now current.
	Changed map[Ref]*Secret
	// Requests counts the Key Vault operations the check sent: list pages
	// plus gets. Retries and 401 challenges are not counted here (an
	// [ObserveFunc] sees those).
	Requests int
	// Strategies says, per vault URL and identity ("url identity"), which
	// strategy the check used.
	Strategies map[string]string
}

// Checker finds the held references whose secret changed, cheaply. For each
// vault and identity it picks the cheaper of two strategies and remembers
// what listing the vault cost last time:
//
//   - StrategyList when the vault's listing took fewer pages than there are
//     references to check (or is not known yet and there are two or more);
//     a listing stops at the page where every watched name has been seen.
//   - StrategyGet otherwise, and always after Key Vault refused the
//     listing (403: the identity may get but not list).
//
// References pinned to a version are never checked: they cannot change.
// A Checker is safe for concurrent use, but checks are meant to run one at
// a time.
type Checker struct {
	f   *Fetcher
	now func() time.Time

	mu     sync.Mutex
	groups map[clientKey]*groupState
}

// groupState is what a Checker remembers about one vault and identity.
type groupState struct {
	pages      int  // pages the last listing read; 0 when unknown
	listDenied bool // Key Vault answered 403 to a listing
}

// NewChecker returns a Checker that uses f's clients, tokens and limits.
func NewChecker(f *Fetcher) *Checker {
	return &Checker{f: f, now: f.opts.Now, groups: map[clientKey]*groupState{}}
}

// Check reports which of held changed. It returns every change it found,
// and an Errors naming each reference it could not check (nil when none);
// a caller keeps what it holds for those.
func (c *Checker) Check(ctx context.Context, held []Held) (*Changes, error) {
	groups := map[clientKey][]Held{}
	var keys []clientKey
	for _, h := range held {
		if h.Ref.Version != "" {
			continue
		}
		k := clientKey{h.Ref.VaultURL, h.Credential.Name()}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], h)
	}
	out := &Changes{Changed: map[Ref]*Secret{}, Strategies: map[string]string{}}
	var (
		mu   sync.Mutex
		errs Errors
		wg   sync.WaitGroup
	)
	for _, k := range keys {
		wg.Go(func() {
			g := dedupe(groups[k])
			changed, n, strategy, gerrs := c.checkGroup(ctx, k, g)
			mu.Lock()
			defer mu.Unlock()
			maps.Copy(out.Changed, changed)
			out.Requests += n
			out.Strategies[k.vault+" "+k.identity] = strategy
			errs = append(errs, gerrs...)
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Ref.String() < errs[j].Ref.String() })
		return out, errs
	}
	return out, nil
}

// dedupe keeps one Held per reference.
func dedupe(hs []Held) []Held {
	seen := map[Ref]bool{}
	out := hs[:0:0]
	for _, h := range hs {
		if !seen[h.Ref] {
			seen[h.Ref] = true
			out = append(out, h)
		}
	}
	return out
}

func (c *Checker) state(k clientKey) *groupState {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[k]
	if g == nil {
		g = &groupState{}
		c.groups[k] = g
	}
	return g
}

// strategy picks how to check n references of group k.
func (c *Checker) strategy(k clientKey, n int) string {
	g := c.state(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case g.listDenied, n < 2:
		return StrategyGet
	case g.pages == 0, g.pages < n:
		return StrategyList
	}
	return StrategyGet
}

// checkGroup checks the references of one vault and identity.
func (c *Checker) checkGroup(ctx context.Context, k clientKey, hs []Held) (map[Ref]*Secret, int, string, Errors) {
	vc, err := c.f.client(k.vault, hs[0].Credential)
	if err != nil {
		var errs Errors
		for _, h := range hs {
			errs = append(errs, classify(h.Ref, k.identity, err))
		}
		return nil, 0, StrategyGet, errs
	}
	strategy := c.strategy(k, len(hs))
	requests := 0
	toGet := hs
	if strategy == StrategyList {
		props, pages, err := c.list(ctx, vc, hs)
		requests += pages
		switch {
		case err == nil:
			c.remember(k, pages, false)
			toGet = stale(hs, props, c.now())
		case err.Kind == ErrForbidden:
			c.remember(k, 0, true)
			c.f.opts.Logger.Debug("listing refused; getting each reference from now on", "vault", k.vault, "identity", k.identity)
			strategy = StrategyGet
		default:
			var errs Errors
			for _, h := range hs {
				e := *err
				e.Ref = h.Ref
				errs = append(errs, &e)
			}
			return nil, requests, strategy, errs
		}
	}
	c.f.opts.Logger.Debug("checking for new versions", "vault", k.vault, "identity", k.identity, "strategy", strategy,
		"references", len(hs), "list_pages", requests, "gets", len(toGet))
	changed, errs := c.getChanged(ctx, vc, toGet)
	return changed, requests + len(toGet), strategy, errs
}

func (c *Checker) remember(k clientKey, pages int, denied bool) {
	g := c.state(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	g.pages, g.listDenied = pages, denied
}

// list reads the vault's secret properties until every held name has been
// seen or the listing ends. It returns them by lower-case name and the
// number of pages read.
func (c *Checker) list(ctx context.Context, vc *vaultClient, hs []Held) (map[string]*azsecrets.SecretProperties, int, *Error) {
	want := make(map[string]bool, len(hs))
	for _, h := range hs {
		want[strings.ToLower(h.Ref.Name)] = true
	}
	first, err := vc.enterCheck(ctx)
	if err != nil {
		return nil, 0, classify(Ref{VaultURL: hs[0].Ref.VaultURL}, vc.cred.Name(), err)
	}
	defer vc.leaveCheck(first)
	props := make(map[string]*azsecrets.SecretProperties, len(hs))
	pages := 0
	pager := vc.client.NewListSecretPropertiesPager(nil)
	for pager.More() && len(want) > 0 {
		page, err := pager.NextPage(ctx)
		pages++
		if err != nil {
			if ctx.Err() != nil {
				err = errors.Join(ctx.Err(), err)
			}
			return nil, pages, classify(Ref{VaultURL: hs[0].Ref.VaultURL}, vc.cred.Name(), err)
		}
		for _, p := range page.Value {
			if p == nil || p.ID == nil {
				continue
			}
			name := strings.ToLower(p.ID.Name())
			if want[name] {
				props[name] = p
				delete(want, name)
			}
		}
	}
	return props, pages, nil
}

// recentWindow: a listed secret updated this recently is got even when its
// properties look unchanged. Key Vault's timestamps are whole seconds, so
// a second version set within the same second as the held one lists the
// same "updated"; the window also covers some clock skew.
const recentWindow = 10 * time.Second

// stale returns the held references whose listed properties differ from
// the held secret, that were updated too recently to tell, or that the
// listing did not show.
func stale(hs []Held, props map[string]*azsecrets.SecretProperties, now time.Time) []Held {
	var out []Held
	for _, h := range hs {
		p := props[strings.ToLower(h.Ref.Name)]
		if p == nil || h.Secret == nil || propsDiffer(p, h.Secret) || now.Sub(h.Secret.Updated) < recentWindow {
			out = append(out, h)
		}
	}
	return out
}

// propsDiffer compares a listing item with the held version. Key Vault
// lists no version id; a new version, or an update of the current one,
// moves "updated" (Unix seconds).
func propsDiffer(p *azsecrets.SecretProperties, s *Secret) bool {
	a := p.Attributes
	if a == nil || a.Updated == nil || !a.Updated.Equal(s.Updated) {
		return true
	}
	if a.Enabled != nil && *a.Enabled != s.Enabled {
		return true
	}
	if !sameTime(a.Expires, s.Expires) || !sameTime(a.NotBefore, s.NotBefore) {
		return true
	}
	ct := ""
	if p.ContentType != nil {
		ct = *p.ContentType
	}
	if ct != s.ContentType || len(p.Tags) != len(s.Tags) {
		return true
	}
	for k, v := range p.Tags {
		if v == nil || s.Tags[k] != *v {
			return true
		}
	}
	return false
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// getChanged gets each of hs and returns those whose version or
// attributes differ from what was held.
func (c *Checker) getChanged(ctx context.Context, vc *vaultClient, hs []Held) (map[Ref]*Secret, Errors) {
	var (
		mu      sync.Mutex
		changed = map[Ref]*Secret{}
		errs    Errors
		wg      sync.WaitGroup
	)
	for _, h := range hs {
		wg.Go(func() {
			s, err := c.f.fetchOne(ctx, vc, h.Request)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case h.Secret == nil || s.Version != h.Secret.Version || !s.Updated.Equal(h.Secret.Updated):
				changed[h.Ref] = s
			}
		})
	}
	wg.Wait()
	return changed, errs
}

// enterCheck takes a request slot on the vault. The first request to a
// vault goes alone (see fetchOne); first reports whether this is it, and
// leaveCheck must be called with it.
func (vc *vaultClient) enterCheck(ctx context.Context) (first bool, err error) {
	vc.once.Do(func() { first = true })
	if !first {
		select {
		case <-vc.ready:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	select {
	case vc.sem <- struct{}{}:
		return first, nil
	case <-ctx.Done():
		if first {
			vc.release()
		}
		return false, ctx.Err()
	}
}

func (vc *vaultClient) leaveCheck(first bool) {
	<-vc.sem
	if first {
		vc.release()
	}
}
