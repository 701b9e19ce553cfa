package templates

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/template"
)

// takesSecretName reports whether the built-in or reserved function name
// takes a secret's name as its argument. cert and certPFX are reserved for
// [SecretFunc]s the caller adds.
func takesSecretName(name string) bool {
	switch name {
	case "secret", "secretMeta", "cert", "certPFX":
		return true
	}
	return false
}

// execution is the state of one Execute call: the secrets passed in and the
// values to redact from its error.
type execution struct {
	secrets map[string]Secret
	red     *redactor
}

// lookup returns the secret called name.
func (x *execution) lookup(name string) (Secret, error) {
	s, ok := x.secrets[name]
	if !ok {
		return Secret{}, shown(fmt.Errorf("secret %q is not defined", name))
	}
	return s, nil
}

// funcMap returns the functions bound to x, with the caller's extra functions.
// x may be nil at parse time, when only the names and signatures matter.
func (x *execution) funcMap(extra template.FuncMap) template.FuncMap {
	m := template.FuncMap{
		"secret": func(name string) (string, error) {
			s, err := x.lookup(name)
			return s.Value, err
		},
		"secretMeta": func(name string) (Meta, error) {
			s, err := x.lookup(name)
			return s.meta(), err
		},
		"toJSON":   x.toJSON,
		"fromJSON": x.fromJSON,
		"b64enc": func(s string) string {
			out := base64.StdEncoding.EncodeToString([]byte(s))
			x.red.addDerived(s, out)
			return out
		},
		"b64dec": x.b64dec,
		"trim": func(s string) string {
			out := strings.TrimSpace(s)
			x.red.addDerived(s, out)
			return out
		},
		"indent": x.indent,
		"quote": func(s string) string {
			out := strconv.Quote(s)
			x.red.addDerived(s, out)
			return out
		},
		"shellQuote": func(s string) string {
			out := shellQuote(s)
			x.red.addDerived(s, out)
			return out
		},
	}
	for name, f := range extra {
		if sf, ok := f.(SecretFunc); ok {
			m[name] = func(secretName string) (any, error) {
				s, err := x.lookup(secretName)
				if err != nil {
					return nil, err
				}
				v, err := sf(s)
				return v, shown(err)
			}
			continue
		}
		if pf, ok := f.(SecretPairFunc); ok {
			m[name] = func(first, second string) (any, error) {
				a, err := x.lookup(first)
				if err != nil {
					return nil, err
				}
				b, err := x.lookup(second)
				if err != nil {
					return nil, err
				}
				v, err := pf(a, b)
				return v, shown(err)
			}
			continue
		}
		m[name] = f
	}
	return m
}

// toJSON encodes v without HTML escaping and without a trailing newline.
func (x *execution) toJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// The encoder's message names types, never string contents.
		return "", shown(fmt.Errorf("toJSON: %w", err))
	}
	out := strings.TrimSuffix(b.String(), "\n")
	if s, ok := v.(string); ok {
		x.red.addDerived(s, out)
	}
	return out, nil
}

// fromJSON decodes exactly one JSON value. Its error gives the byte offset
// only: encoding/json quotes the offending input, which here is a secret.
func (x *execution) fromJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return nil, shown(fmt.Errorf("fromJSON: value is not valid JSON: data after the end at byte %d", dec.InputOffset()))
		}
		if x.red.has(s) {
			x.red.addTree(v)
		}
		return v, nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return nil, shown(fmt.Errorf("fromJSON: value is not valid JSON: syntax error at byte %d", syn.Offset))
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, shown(errors.New("fromJSON: value is not valid JSON: unexpected end"))
	}
	return nil, shown(errors.New("fromJSON: value is not valid JSON"))
}

// b64dec decodes standard, padded base64. Its error gives the offset only.
func (x *execution) b64dec(s string) (string, error) {
	out, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		var corrupt base64.CorruptInputError
		if errors.As(err, &corrupt) {
			return "", shown(fmt.Errorf("b64dec: value is not valid base64: bad byte at offset %d", int64(corrupt)))
		}
		return "", shown(errors.New("b64dec: value is not valid base64"))
	}
	x.red.addDerived(s, string(out))
	return string(out), nil
}

// indent puts n spaces before every line of s, the first one included.
func (x *execution) indent(n int, s string) (string, error) {
	if n < 0 {
		return "", shown(fmt.Errorf("indent: negative width %d", n))
	}
	pad := strings.Repeat(" ", n)
	out := pad + strings.ReplaceAll(s, "\n", "\n"+pad)
	x.red.addDerived(s, out)
	return out, nil
}

// shellQuote returns s as one POSIX shell word in single quotes; each single
// quote in s ends the quoted part, is escaped and reopens it:
//
//	it's  ->  'it'\''s'
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
