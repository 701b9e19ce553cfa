package templates

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// redactedMark replaces every secret value in an error message.
const redactedMark = "[redacted]"

// redactor collects the strings that must not appear in an error message. It
// is used by one execution at a time and is not safe for concurrent use.
type redactor struct {
	values map[string]struct{}
}

func newRedactor(secrets map[string]Secret) *redactor {
	r := &redactor{values: make(map[string]struct{}, len(secrets))}
	for _, s := range secrets {
		r.add(s.Value)
	}
	return r
}

// add records v and its Go-quoted form (as %q would print it, without the
// quotes) as values to redact.
func (r *redactor) add(v string) {
	if v == "" {
		return
	}
	r.values[v] = struct{}{}
	if q := strconv.Quote(v); q[1:len(q)-1] != v {
		r.values[q[1:len(q)-1]] = struct{}{}
	}
}

// has reports whether v is a recorded value.
func (r *redactor) has(v string) bool {
	_, ok := r.values[v]
	return ok
}

// minDerived is the shortest derived string that is redacted. Secret values
// themselves are redacted whatever their length; a JSON field such as "a" or
// "on" is not, or every error would read "m[redacted]p h[redacted]s …".
const minDerived = 4

// addDerived records out when it was computed from a recorded value in.
func (r *redactor) addDerived(in, out string) {
	if r.has(in) {
		r.addShort(out)
	}
}

// addShort records v unless it is shorter than minDerived.
func (r *redactor) addShort(v string) {
	if len(v) >= minDerived {
		r.add(v)
	}
}

// addTree records every string in a value decoded by fromJSON.
func (r *redactor) addTree(v any) {
	switch v := v.(type) {
	case string:
		r.addShort(v)
	case json.Number:
		r.addShort(string(v))
	case map[string]any:
		for _, e := range v { // keys are not redacted: templates name them
			r.addTree(e)
		}
	case []any:
		for _, e := range v {
			r.addTree(e)
		}
	}
}

// redact returns msg with every byte covered by an occurrence of a recorded
// value replaced: each maximal run of covered bytes becomes one
// "[redacted]". Overlapping occurrences are all covered, so no part of any
// occurrence survives.
func (r *redactor) redact(msg string) string {
	if len(r.values) == 0 || msg == "" {
		return msg
	}
	vals := make([]string, 0, len(r.values))
	for v := range r.values {
		vals = append(vals, v)
	}
	// Longest first keeps the work predictable; the mask makes order irrelevant
	// to the result.
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	covered := make([]bool, len(msg))
	found := false
	for _, v := range vals {
		for start := 0; start <= len(msg)-len(v); {
			i := strings.Index(msg[start:], v)
			if i < 0 {
				break
			}
			for k := start + i; k < start+i+len(v); k++ {
				covered[k] = true
			}
			found = true
			start += i + 1
		}
	}
	if !found {
		return msg
	}
	var b strings.Builder
	for i := 0; i < len(msg); i++ {
		if !covered[i] {
			b.WriteByte(msg[i])
			continue
		}
		if i == 0 || !covered[i-1] {
			b.WriteString(redactedMark)
		}
	}
	return b.String()
}

// ExecError is a template execution failure with every secret value removed
// from its message. It wraps nothing on purpose: the original error from
// text/template may contain values, so it is dropped, not kept.
type ExecError struct {
	// Template is the name given to Parse, e.g. "files[2].template".
	Template string
	msg      string
}

// Error returns the redacted message, which names the template and, for
// errors from text/template, the line and column.
func (e *ExecError) Error() string {
	if strings.HasPrefix(e.msg, "template: ") {
		return "execute " + e.msg
	}
	return "execute template " + e.Template + ": " + e.msg
}
