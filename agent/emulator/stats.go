package emulator

import (
	"maps"
	"strconv"
	"sync"
)

// Request kinds counted in Stats, besides kvserver's ("challenge", "get",
// "list", "versions", "set", "update", "error").
const (
	KindIMDS           = "imds"
	KindAppService     = "appservice"
	KindEntraDiscovery = "entra-discovery"
	KindEntraOIDC      = "entra-oidc"
	KindEntraToken     = "entra-token"
	KindEntraOther     = "entra-other"
	KindRefused        = "refused" // a destination the proxy does not serve (502)
)

// Stats counts the requests the emulator has answered since Start or the
// last Reset. Admin requests (/_emulator/...) are not counted.
type Stats struct {
	Total      int            `json:"total"`
	Kinds      map[string]int `json:"kinds"`      // by kind, e.g. "imds", "get"
	Vaults     map[string]int `json:"vaults"`     // Key Vault requests by vault name
	Identities map[string]int `json:"identities"` // by identity name (token requests and authenticated vault requests)
	Statuses   map[string]int `json:"statuses"`   // by HTTP status, e.g. "200"
}

// counter is the concurrency-safe store behind Stats.
type counter struct {
	mu sync.Mutex
	s  Stats
}

func newCounter() *counter {
	c := &counter{}
	c.reset()
	return c
}

func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s = Stats{Kinds: map[string]int{}, Vaults: map[string]int{}, Identities: map[string]int{}, Statuses: map[string]int{}}
}

// add counts one request. Empty vault or identity are not counted.
func (c *counter) add(kind, vault, identity string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Total++
	c.s.Kinds[kind]++
	if vault != "" {
		c.s.Vaults[vault]++
	}
	if identity != "" {
		c.s.Identities[identity]++
	}
	c.s.Statuses[strconv.Itoa(status)]++
}

// snapshot returns a deep copy.
func (c *counter) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{
		Total:      c.s.Total,
		Kinds:      maps.Clone(c.s.Kinds),
		Vaults:     maps.Clone(c.s.Vaults),
		Identities: maps.Clone(c.s.Identities),
		Statuses:   maps.Clone(c.s.Statuses),
	}
}
