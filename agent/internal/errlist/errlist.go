// Package errlist is a list of errors of one type that is itself an
// error: its message is one line per entry, and errors.Is and errors.As
// see each entry.
package errlist

import "strings"

// List is errors of type E, as one error.
type List[E error] []E

// Error joins the entries' messages with newlines.
func (l List[E]) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the entries.
func (l List[E]) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}
