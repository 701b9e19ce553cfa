package kvserver

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// recoverableDays and recoveryLevel are what a vault with soft-delete and
// no purge protection reports.
const (
	recoveryLevel   = "CustomizedRecoverable+Purgeable"
	recoverableDays = 90
)

// vaultState is a vault's live data. Its secrets are guarded by Server.mu;
// its rate limiter has its own lock.
type vaultState struct {
	name       string
	access     map[string]map[string]bool // caller name → permission set
	limit      Limit
	faultRate  float64
	faultKinds []string
	secrets    map[string]*secret // lower-cased name → secret
	order      []*secret          // sorted by lower-cased name, for paging
	limiter    limiter
}

// secret is a named secret's versions, oldest first.
type secret struct {
	name     string // as first configured or set
	key      string // lower-cased name
	versions []*version
	byID     map[string]*version
	sorted   []*version // sorted by id, the order Key Vault lists versions in
}

func (s *secret) current() *version { return s.versions[len(s.versions)-1] }

func (s *secret) add(v *version) {
	s.versions = append(s.versions, v)
	s.byID[v.id] = v
	i, _ := slices.BinarySearchFunc(s.sorted, v.id, func(e *version, id string) int { return strings.Compare(e.id, id) })
	s.sorted = slices.Insert(s.sorted, i, v)
}

// version is one immutable secret version; an update replaces it with a
// modified copy, so a pointer read under the lock may be used after it.
type version struct {
	id          string
	value       string
	contentType string
	tags        map[string]string
	enabled     bool
	nbf, exp    *int64
	created     int64
	updated     int64
	managed     bool
	kid         string

	// Pre-encoded JSON: a bundle is headValue + host + path + tail, a list
	// item (or PATCH answer) is head + host + path + tail.
	headValue, head, tail []byte
}

// encode fills the pre-encoded JSON of v.
func (v *version) encode() {
	var b []byte
	b = append(b, `{"value":`...)
	b = appendJSON(b, v.value)
	b = append(b, ',')
	v.headValue = appendIDStart(b, v.contentType)
	v.head = appendIDStart([]byte{'{'}, v.contentType)

	t := []byte(`","attributes":{"enabled":`)
	t = strconv.AppendBool(t, v.enabled)
	if v.nbf != nil {
		t = append(t, `,"nbf":`...)
		t = strconv.AppendInt(t, *v.nbf, 10)
	}
	if v.exp != nil {
		t = append(t, `,"exp":`...)
		t = strconv.AppendInt(t, *v.exp, 10)
	}
	t = append(t, `,"created":`...)
	t = strconv.AppendInt(t, v.created, 10)
	t = append(t, `,"updated":`...)
	t = strconv.AppendInt(t, v.updated, 10)
	t = append(t, `,"recoveryLevel":"`+recoveryLevel+`","recoverableDays":`...)
	t = strconv.AppendInt(t, recoverableDays, 10)
	t = append(t, '}')
	if len(v.tags) > 0 {
		t = append(t, `,"tags":`...)
		t = appendJSON(t, v.tags)
	}
	if v.kid != "" {
		t = append(t, `,"kid":`...)
		t = appendJSON(t, v.kid)
	}
	if v.managed {
		t = append(t, `,"managed":true`...)
	}
	v.tail = append(t, '}')
}

// appendIDStart appends the optional contentType and the opening of "id".
func appendIDStart(b []byte, contentType string) []byte {
	if contentType != "" {
		b = append(b, `"contentType":`...)
		b = appendJSON(b, contentType)
		b = append(b, ',')
	}
	return append(b, `"id":"https://`...)
}

// appendJSON appends the JSON encoding of a string or string map; those
// cannot fail to encode.
func appendJSON(b []byte, v any) []byte {
	enc, err := json.Marshal(v)
	if err != nil {
		panic("kvserver: encode json: " + err.Error()) // unreachable for strings and string maps
	}
	return append(b, enc...)
}

// versionID is the stable id of a configured version.
func versionID(vault, name string, index int) string {
	sum := sha256.Sum256([]byte(strings.ToLower(vault) + "/" + strings.ToLower(name) + "/" + strconv.Itoa(index)))
	return hex.EncodeToString(sum[:16])
}

// newVersionID is a fresh random id for a version created by a request.
func newVersionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

func unixPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	u := t.Unix()
	return &u
}

// buildVaults turns the configuration into live state. Configured version i
// of n is dated (n-i) hours before base.
func buildVaults(vaults []Vault, base time.Time) map[string]*vaultState {
	out := make(map[string]*vaultState, len(vaults))
	for _, cv := range vaults {
		vs := &vaultState{
			name:       cv.Name,
			access:     map[string]map[string]bool{},
			limit:      cv.Limit,
			faultRate:  cv.Faults.Rate,
			faultKinds: slices.Clone(cv.Faults.Kinds),
			secrets:    make(map[string]*secret, len(cv.Secrets)),
		}
		if len(vs.faultKinds) == 0 {
			vs.faultKinds = []string{"500", "503", "429", "reset"}
		}
		for _, a := range cv.Access {
			perms := vs.access[a.Identity]
			if perms == nil {
				perms = map[string]bool{}
				vs.access[a.Identity] = perms
			}
			for _, p := range a.Permissions {
				perms[p] = true
			}
		}
		for name, cs := range cv.Secrets {
			s := &secret{name: name, key: strings.ToLower(name), byID: map[string]*version{}}
			n := len(cs.Versions)
			for i, c := range cs.Versions {
				ts := base.Add(-time.Duration(n-i) * time.Hour).Unix()
				v := &version{
					id:          versionID(cv.Name, name, i),
					value:       c.Value,
					contentType: c.ContentType,
					tags:        cloneTags(c.Tags),
					enabled:     c.Enabled == nil || *c.Enabled,
					nbf:         unixPtr(c.NotBefore),
					exp:         unixPtr(c.Expires),
					created:     ts,
					updated:     ts,
					managed:     c.Managed,
					kid:         c.KeyID,
				}
				v.encode()
				s.add(v)
			}
			vs.secrets[s.key] = s
			vs.order = append(vs.order, s)
		}
		slices.SortFunc(vs.order, func(a, b *secret) int { return strings.Compare(a.key, b.key) })
		out[strings.ToLower(cv.Name)] = vs
	}
	return out
}

func cloneTags(t map[string]string) map[string]string {
	if len(t) == 0 {
		return nil
	}
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// limiter counts requests in fixed 10-second windows.
type limiter struct {
	mu    sync.Mutex
	start time.Time
	count int
}

// allow reports whether one more request fits in the current window and,
// if so, counts it. Refused requests are not counted.
func (l *limiter) allow(limit int, now time.Time) bool {
	if limit <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= limitWindow || now.Before(l.start) {
		l.start, l.count = now, 0
	}
	if l.count >= limit {
		return false
	}
	l.count++
	return true
}

// limitWindow is Key Vault's throttling window.
const limitWindow = 10 * time.Second

// replace swaps old for its updated copy nv (same id) without mutating the
// slices readers may hold.
func (s *secret) replace(old, nv *version) {
	swap := func(list []*version) []*version {
		out := slices.Clone(list)
		for i, e := range out {
			if e == old {
				out[i] = nv
			}
		}
		return out
	}
	s.versions = swap(s.versions)
	s.sorted = swap(s.sorted)
	s.byID[nv.id] = nv
}
