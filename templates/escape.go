package templates

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"
)

// envName turns a reference name into an environment variable name: upper
// case, every byte outside [A-Z0-9_] replaced by "_", "_" before a leading
// digit, "_" for the empty name.
func envName(name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		default:
			b[i] = '_'
		}
	}
	if len(b) == 0 || (b[0] >= '0' && b[0] <= '9') {
		return "_" + string(b)
	}
	return string(b)
}

// dotenvQuote double-quotes s, escaping exactly \, ", $, `, LF and CR.
func dotenvQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"', '$', '`':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// plainYAMLKey matches keys that YAML reads as strings without quotes.
var plainYAMLKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// yamlKey writes name bare when YAML 1.1 and 1.2 both read it as that
// string, and double-quoted otherwise.
func yamlKey(name string) string {
	switch strings.ToLower(name) {
	case "y", "n", "yes", "no", "true", "false", "on", "off", "null":
		return yamlQuote(name)
	}
	if plainYAMLKey.MatchString(name) {
		return name
	}
	return yamlQuote(name)
}

// yamlQuote writes s as a JSON string that is also a valid YAML double-quoted
// scalar: characters YAML does not allow unescaped are written as \uXXXX.
// Invalid UTF-8 becomes U+FFFD. The json format uses it too, so that its
// output is also YAML.
func yamlQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) ||
				r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff {
				fmt.Fprintf(&b, `\u%04X`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// propertiesKey escapes a key as java.util.Properties.store does.
func propertiesKey(s string) string { return propertiesEscape(s, true) }

// propertiesValue escapes a value as java.util.Properties.store does.
func propertiesValue(s string) string { return propertiesEscape(s, false) }

// propertiesEscape is Properties.saveConvert with escapeUnicode: every
// UTF-16 unit outside printable ASCII becomes \uXXXX.
func propertiesEscape(s string, escapeSpace bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, c := range utf16.Encode([]rune(s)) {
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == ' ':
			if i == 0 || escapeSpace {
				b.WriteByte('\\')
			}
			b.WriteByte(' ')
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '=', c == ':', c == '#', c == '!':
			b.WriteByte('\\')
			b.WriteByte(byte(c))
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&b, `\u%04X`, c)
		default:
			b.WriteByte(byte(c))
		}
	}
	return b.String()
}
