package kvserver

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxBody bounds request bodies; Key Vault's own value limit is 25 KiB.
const maxBody = 1 << 20

// getSecret answers GET /secrets/{name}[/{version}] with a SecretBundle.
// Expired and not-yet-valid versions are served like real Key Vault does:
// exp and nbf are information for the client; only disabled ones are refused.
func (s *Server) getSecret(c *call, name, ver string) {
	s.mu.RLock()
	sec := c.vault.secrets[strings.ToLower(name)]
	var v *version
	if sec != nil {
		if ver == "" {
			v = sec.current()
		} else {
			v = sec.byID[strings.ToLower(ver)]
		}
	}
	s.mu.RUnlock()
	if v == nil {
		s.fail(c, errSecretNotFound(joinVersion(name, ver)))
		return
	}
	if !v.enabled {
		s.fail(c, errSecretDisabled("get"))
		return
	}
	s.reply(c, http.StatusOK, v.headValue, []byte(c.host), idPath(sec.name, v.id), v.tail)
}

func joinVersion(name, ver string) string {
	if ver == "" {
		return name
	}
	return name + "/" + ver
}

func idPath(name, ver string) []byte {
	b := make([]byte, 0, len("/secrets//")+len(name)+len(ver))
	b = append(b, "/secrets/"...)
	b = append(b, name...)
	if ver != "" {
		b = append(b, '/')
		b = append(b, ver...)
	}
	return b
}

// page is the paging request of a list call.
type page struct {
	max    int    // items per page, 1..25
	marker string // list items after this key; "" from the start
}

// parsePage reads maxresults and $skiptoken; it answers 400 and returns
// false when either is invalid.
func (s *Server) parsePage(c *call) (page, bool) {
	p := page{max: 25}
	if raw := queryValue(c.r.URL.RawQuery, "maxresults"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 25 {
			s.fail(c, errBadParameter("Invalid maxresults '%s': it must be a number from 1 to 25.", truncate(raw, 32)))
			return p, false
		}
		p.max = n
	}
	if tok := queryValue(c.r.URL.RawQuery, "$skiptoken"); tok != "" {
		m, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(m) == 0 {
			s.fail(c, errBadParameter("The $skiptoken is invalid."))
			return p, false
		}
		p.marker = string(m)
	}
	return p, true
}

// nextLink is the absolute URL of the page after marker on this vault's host.
func (c *call) nextLink(path, marker string, size int) []byte {
	b := []byte(`"https://`)
	b = append(b, c.host...)
	b = append(b, path...)
	b = append(b, "?api-version="...)
	b = append(b, url.QueryEscape(c.apiVersion)...) // query escaping is also JSON-safe
	b = append(b, "&$skiptoken="...)
	b = append(b, base64.RawURLEncoding.EncodeToString([]byte(marker))...)
	b = append(b, "&maxresults="...)
	b = strconv.AppendInt(b, int64(size), 10)
	return append(b, '"')
}

// listSecrets answers GET /secrets: the current version of each secret,
// without values, sorted by name, paged.
func (s *Server) listSecrets(c *call) {
	p, ok := s.parsePage(c)
	if !ok {
		return
	}
	host := []byte(c.host)
	body := []byte(`{"value":[`)
	s.mu.RLock()
	order := c.vault.order
	i, _ := slices.BinarySearchFunc(order, p.marker, func(e *secret, m string) int { return strings.Compare(e.key, m) })
	if i < len(order) && order[i].key == p.marker {
		i++
	}
	end := min(i+p.max, len(order))
	for j, sec := range order[i:end] {
		if j > 0 {
			body = append(body, ',')
		}
		v := sec.current()
		body = append(body, v.head...)
		body = append(body, host...)
		body = append(body, idPath(sec.name, "")...)
		body = append(body, v.tail...)
	}
	more := end < len(order)
	last := ""
	if end > i {
		last = order[end-1].key
	}
	s.mu.RUnlock()
	body = s.closePage(c, body, more, "/secrets", last, p.max)
	s.reply(c, http.StatusOK, body)
}

// listVersions answers GET /secrets/{name}/versions: every version without
// its value, sorted by version id as Key Vault does, paged.
func (s *Server) listVersions(c *call, name string) {
	p, ok := s.parsePage(c)
	if !ok {
		return
	}
	host := []byte(c.host)
	body := []byte(`{"value":[`)
	s.mu.RLock()
	sec := c.vault.secrets[strings.ToLower(name)]
	if sec == nil {
		s.mu.RUnlock()
		s.fail(c, errSecretNotFound(name))
		return
	}
	sorted := sec.sorted
	i, found := slices.BinarySearchFunc(sorted, p.marker, func(e *version, m string) int { return strings.Compare(e.id, m) })
	if found {
		i++
	}
	end := min(i+p.max, len(sorted))
	for j, v := range sorted[i:end] {
		if j > 0 {
			body = append(body, ',')
		}
		body = append(body, v.head...)
		body = append(body, host...)
		body = append(body, idPath(sec.name, v.id)...)
		body = append(body, v.tail...)
	}
	more := end < len(sorted)
	last := ""
	if end > i {
		last = sorted[end-1].id
	}
	secName := sec.name
	s.mu.RUnlock()
	body = s.closePage(c, body, more, "/secrets/"+secName+"/versions", last, p.max)
	s.reply(c, http.StatusOK, body)
}

func (s *Server) closePage(c *call, body []byte, more bool, path, last string, size int) []byte {
	body = append(body, `],"nextLink":`...)
	if more {
		body = append(body, c.nextLink(path, last, size)...)
	} else {
		body = append(body, "null"...)
	}
	return append(body, '}')
}

// attributesIn is the writable part of a secret's attributes.
type attributesIn struct {
	Enabled   *bool  `json:"enabled"`
	NotBefore *int64 `json:"nbf"`
	Expires   *int64 `json:"exp"`
}

// setIn is the body of PUT /secrets/{name}.
type setIn struct {
	Value       *string           `json:"value"`
	ContentType *string           `json:"contentType"`
	Tags        map[string]string `json:"tags"`
	Attributes  *attributesIn     `json:"attributes"`
}

// updateIn is the body of PATCH /secrets/{name}/{version}.
type updateIn struct {
	ContentType *string           `json:"contentType"`
	Tags        map[string]string `json:"tags"`
	Attributes  *attributesIn     `json:"attributes"`
}

// decodeBody reads a JSON body into dst; on failure it answers 400 without
// quoting the body (it may hold a secret value) and returns false.
func (s *Server) decodeBody(c *call, dst any) bool {
	data, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBody))
	if err != nil {
		s.fail(c, errBadParameter("The request body could not be read or is larger than %d bytes.", maxBody))
		return false
	}
	if err := json.Unmarshal(data, dst); err != nil {
		s.fail(c, errBadParameter("The request body is not a valid JSON object of the expected shape."))
		return false
	}
	return true
}

// setSecret answers PUT /secrets/{name}: a new current version.
func (s *Server) setSecret(c *call, name string) {
	var in setIn
	if !s.decodeBody(c, &in) {
		return
	}
	if in.Value == nil {
		s.fail(c, errBadParameter("Property 'value' is required."))
		return
	}
	now := s.cfg.Now().Unix()
	v := &version{
		id:      newVersionID(),
		value:   *in.Value,
		tags:    cloneTags(in.Tags),
		enabled: true,
		created: now,
		updated: now,
	}
	if in.ContentType != nil {
		v.contentType = *in.ContentType
	}
	if a := in.Attributes; a != nil {
		if a.Enabled != nil {
			v.enabled = *a.Enabled
		}
		v.nbf, v.exp = a.NotBefore, a.Expires
	}
	v.encode()

	key := strings.ToLower(name)
	s.mu.Lock()
	sec := c.vault.secrets[key]
	if sec == nil {
		sec = &secret{name: name, key: key, byID: map[string]*version{}}
		c.vault.secrets[key] = sec
		i, _ := slices.BinarySearchFunc(c.vault.order, key, func(e *secret, k string) int { return strings.Compare(e.key, k) })
		c.vault.order = slices.Insert(slices.Clip(c.vault.order), i, sec)
	}
	sec.add(v)
	secName := sec.name
	s.mu.Unlock()
	s.reply(c, http.StatusOK, v.headValue, []byte(c.host), idPath(secName, v.id), v.tail)
}

// updateSecret answers PATCH /secrets/{name}[/{version}]: changes content
// type, tags and attributes, and returns the bundle without its value.
func (s *Server) updateSecret(c *call, name, ver string) {
	var in updateIn
	if !s.decodeBody(c, &in) {
		return
	}
	now := s.cfg.Now().Unix()
	s.mu.Lock()
	sec := c.vault.secrets[strings.ToLower(name)]
	var old *version
	if sec != nil {
		if ver == "" {
			old = sec.current()
		} else {
			old = sec.byID[strings.ToLower(ver)]
		}
	}
	if old == nil {
		s.mu.Unlock()
		s.fail(c, errSecretNotFound(joinVersion(name, ver)))
		return
	}
	v := *old
	if in.ContentType != nil {
		v.contentType = *in.ContentType
	}
	if in.Tags != nil {
		v.tags = cloneTags(in.Tags)
	}
	if a := in.Attributes; a != nil {
		if a.Enabled != nil {
			v.enabled = *a.Enabled
		}
		if a.NotBefore != nil {
			v.nbf = a.NotBefore
		}
		if a.Expires != nil {
			v.exp = a.Expires
		}
	}
	v.updated = now
	v.encode()
	sec.replace(old, &v)
	secName := sec.name
	s.mu.Unlock()
	s.reply(c, http.StatusOK, v.head, []byte(c.host), idPath(secName, v.id), v.tail)
}
