package templates

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"text/template"
)

// funcError marks an error returned by one of this package's functions or
// by a caller's SecretFunc: its message is built from names, types and
// offsets, never from a value, so it may be shown.
type funcError struct{ err error }

func (e *funcError) Error() string { return e.err.Error() }
func (e *funcError) Unwrap() error { return e.err }

// SafeError marks err, returned by a method of a value a [SecretFunc]
// gives to templates, as safe to show in an execution error: its message
// must carry no value. Errors of SecretFuncs themselves are shown as they
// are; any other error from text/template has its details withheld.
func SafeError(err error) error { return shown(err) }

// shown marks err as safe to show; nil stays nil.
func shown(err error) error {
	if err == nil {
		return nil
	}
	return &funcError{err}
}

// safeTails are text/template's own execution messages that carry only
// names, types and numbers. Any other message from text/template may print
// a value (for example "range can't iterate over <value>"), so its details
// are withheld even after redaction, which cannot know values computed by
// built-ins such as printf or slice. It is compiled on first use: only a
// failing template needs it, and compiling costs start-up time.
var safeTails = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:` + strings.Join([]string{
		`can't evaluate field \w+ in type [\w.\[\]*{} ]+`,
		`wrong type for value; expected [\w.\[\]*{} ]+; got [\w.\[\]*{} ]+`,
		`wrong number of args for \w+: want \d+ got \d+`,
		`nil pointer evaluating [\w.\[\]*{} ]+\.\w+`,
		`map has no entry for key "[\w.-]*"`,
		`nil data; no entry for key "[\w.-]*"`,
		`error calling (?:index|slice|len|eq|ne|lt|le|gt|ge|call): [^"%]*`,
		`(?:incompatible|invalid) types? for comparison`,
		`can't call method/function "\w+" with \d+ results`,
		`can't give argument to non-function [\w.$]+`,
	}, "|") + `)$`)
})

// withheld replaces a message's details that may hold a value.
const withheld = redactedMark + " (details withheld: they may contain a secret value)"

// safeMessage returns err's message with nothing in it that could be a
// value: errors of this package's functions are shown as they are; for
// text/template's own errors, the location (template, line, column and the
// expression, all from the template's source) is kept and details outside
// the known-safe shapes are withheld.
func safeMessage(err error) string {
	msg := err.Error()
	var fe *funcError
	if errors.As(err, &fe) {
		return msg
	}
	var te template.ExecError
	if !errors.As(err, &te) {
		return msg
	}
	i := strings.Index(msg, ": executing ")
	if i < 0 {
		return withheld
	}
	j := strings.Index(msg[i:], ">: ")
	if j < 0 {
		return withheld
	}
	prefix, tail := msg[:i+j+1], msg[i+j+3:]
	if safeTails().MatchString(tail) {
		return msg
	}
	return prefix + ": " + withheld
}
