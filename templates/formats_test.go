package templates

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// trickyValues are values every format must carry exactly.
var trickyValues = map[string]string{
	"double-quote": `say "hi"`,
	"single-quote": `it's`,
	"backslash":    `C:\path\new \\ end\`,
	"dollar":       `$HOME ${PATH} $(id) $`,
	"backquote":    "`id` and \\`",
	"newline":      "line1\nline2\n",
	"crlf":         "a\r\nb",
	"tab":          "a\tb",
	"unicode":      "héllo wörld ✓ 😀 日本",
	"lead-space":   "   three leading, two trailing  ",
	"specials":     "a=b:c#d!e",
	"hash-start":   "#not a comment",
	"empty":        "",
	"controls":     "bell\a nul-ish \x01 del\x7f c1\u0085 ls\u2028 bom\ufeff",
	"html":         "<b>&amp;</b>",
	"yes":          "yes",
	"json-like":    `{"a": [1, 2]}`,
	"equals-start": "=x",
	"9lives":       "digit first",
	"with.dot":     "dot",
}

func trickySecrets(t *testing.T) map[string]Secret {
	t.Helper()
	m := make(map[string]Secret, len(trickyValues))
	for n, v := range trickyValues {
		m[n] = Secret{Name: n, Value: v}
	}
	return m
}

func execFormat(t *testing.T, format string, only []string, secrets map[string]Secret) []byte {
	t.Helper()
	tmpl, err := Format(format, only)
	require.NoError(t, err)
	out, err := tmpl.Execute(secrets)
	require.NoError(t, err)
	return out
}

func TestFormatsList(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"dotenv", "json", "properties", "yaml"}, Formats())
	for _, f := range Formats() {
		_, err := Format(f, nil)
		assert.NoError(t, err, f)
	}
	_, err := Format("toml", nil)
	assert.ErrorContains(t, err, `unknown format "toml" (known: dotenv, json, properties, yaml)`)
}

func TestFormatRoundTrip(t *testing.T) {
	t.Parallel()
	parsers := map[string]func(t *testing.T, out []byte) map[string]string{
		"json": func(t *testing.T, out []byte) map[string]string {
			var m map[string]string
			require.NoError(t, json.Unmarshal(out, &m))
			var viaYAML map[string]string
			require.NoError(t, yaml.Unmarshal(out, &viaYAML))
			assert.Equal(t, m, viaYAML, "json output read as YAML 1.2")
			return m
		},
		"yaml": func(t *testing.T, out []byte) map[string]string {
			var m map[string]string
			require.NoError(t, yaml.Unmarshal(out, &m))
			return m
		},
		"dotenv":     parseDotenv,
		"properties": parseProperties,
	}
	for format, parse := range parsers {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			out := execFormat(t, format, nil, trickySecrets(t))
			got := parse(t, out)
			want := trickyValues
			if format == "dotenv" {
				want = map[string]string{}
				for n, v := range trickyValues {
					want[envName(n)] = v
				}
			}
			assert.Equal(t, want, got, "output:\n%s", out)
		})
	}
}

func TestFormatGolden(t *testing.T) {
	t.Parallel()
	secrets := map[string]Secret{
		"db-url":  {Value: "a\"b$c\n"},
		"api_key": {Value: " k=v:é"},
		"on":      {Value: "`x`"},
	}
	tests := []struct{ format, want string }{
		{"dotenv", "API_KEY=\" k=v:é\"\nDB_URL=\"a\\\"b\\$c\\n\"\nON=\"\\`x\\`\"\n"},
		{"json", "{\n  \"api_key\": \" k=v:é\",\n  \"db-url\": \"a\\\"b$c\\n\",\n  \"on\": \"`x`\"\n}\n"},
		{"yaml", "api_key: \" k=v:é\"\ndb-url: \"a\\\"b$c\\n\"\n\"on\": \"`x`\"\n"},
		{"properties", "api_key=\\ k\\=v\\:\\u00E9\ndb-url=a\"b$c\\n\non=`x`\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, string(execFormat(t, tt.format, nil, secrets)))
		})
	}
}

func TestFormatEmpty(t *testing.T) {
	t.Parallel()
	want := map[string]string{"dotenv": "", "json": "{}\n", "yaml": "{}\n", "properties": ""}
	for format, w := range want {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, w, string(execFormat(t, format, nil, map[string]Secret{})))
		})
	}
}

func TestFormatOnly(t *testing.T) {
	t.Parallel()
	tmpl, err := Format("json", []string{"tab", "dollar", "tab"})
	require.NoError(t, err)
	assert.Equal(t, []string{"dollar", "tab"}, tmpl.Secrets())
	assert.False(t, tmpl.UsesAll())
	out, err := tmpl.Execute(trickySecrets(t))
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"dollar\": \"$HOME ${PATH} $(id) $\",\n  \"tab\": \"a\\tb\"\n}\n", string(out))

	_, err = tmpl.Execute(map[string]Secret{"tab": {Value: "x"}})
	assert.ErrorContains(t, err, `secret "dollar" is not defined`)

	all, err := Format("json", nil)
	require.NoError(t, err)
	assert.Nil(t, all.Secrets())
	assert.True(t, all.UsesAll())
}

func TestDotenvNames(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"db_password": "DB_PASSWORD",
		"db-url":      "DB_URL",
		"a.b c":       "A_B_C",
		"9lives":      "_9LIVES",
		"":            "_",
		"ünï":         "__N__",
		"API_Key2":    "API_KEY2",
	}
	for in, want := range tests {
		assert.Equal(t, want, envName(in), "envName(%q)", in)
	}
}

func TestDotenvCollision(t *testing.T) {
	t.Parallel()
	tmpl, err := Format("dotenv", nil)
	require.NoError(t, err)
	out, err := tmpl.Execute(map[string]Secret{"db-pass": {Value: "one"}, "db_pass": {Value: "two"}})
	assert.Nil(t, out)
	assert.ErrorContains(t, err, `secrets "db-pass" and "db_pass" both become DB_PASS`)
}

// TestDotenvPOSIXShell sources the dotenv output in sh: every value without a
// line break must come back exactly, and nothing may be expanded or run.
func TestDotenvPOSIXShell(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH")
	}
	secrets := map[string]Secret{}
	for n, v := range trickyValues {
		if !strings.ContainsAny(v, "\r\n") {
			secrets[n] = Secret{Value: v}
		}
	}
	file := filepath.Join(t.TempDir(), "app.env")
	require.NoError(t, os.WriteFile(file, execFormat(t, "dotenv", nil, secrets), 0o600))
	for n, s := range secrets {
		cmd := exec.Command(sh, "-c", `. "$1" && printf %s "$`+envName(n)+`"`, "sh", file)
		got, err := cmd.Output()
		require.NoError(t, err, n)
		assert.Equal(t, s.Value, string(got), n)
	}
}

// parseDotenv reads the documented dotenv rules back: NAME="…" lines whose
// value unescapes \\ \" \$ \` \n \r, every other byte taken as is.
func parseDotenv(t *testing.T, out []byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		name, q, ok := strings.Cut(line, "=")
		require.True(t, ok, line)
		require.Regexp(t, `^[A-Z_][A-Z0-9_]*$`, name)
		require.True(t, len(q) >= 2 && q[0] == '"' && q[len(q)-1] == '"', line)
		var b strings.Builder
		body := q[1 : len(q)-1]
		for i := 0; i < len(body); i++ {
			c := body[i]
			if c == '"' {
				t.Fatalf("unescaped quote in %q", line)
			}
			if c != '\\' {
				b.WriteByte(c)
				continue
			}
			i++
			require.Less(t, i, len(body), "dangling backslash in %q", line)
			switch body[i] {
			case '\\', '"', '$', '`':
				b.WriteByte(body[i])
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				t.Fatalf("unexpected escape \\%c in %q", body[i], line)
			}
		}
		m[name] = b.String()
	}
	return m
}

// parseProperties reads key=value lines with java.util.Properties.load's
// rules (without line continuations, which the writer never produces).
func parseProperties(t *testing.T, out []byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		require.NotRegexp(t, `[^\x20-\x7e]`, line, "non-ASCII or control byte written raw")
		// The key ends at the first unescaped '=', ':' or white space.
		end := 0
		for end < len(line) && !strings.ContainsRune("=: \t\f", rune(line[end])) {
			if line[end] == '\\' {
				end++
			}
			end++
		}
		key := line[:end]
		rest := strings.TrimLeft(line[end:], " \t\f")
		if rest != "" && (rest[0] == '=' || rest[0] == ':') {
			rest = rest[1:]
		}
		rest = strings.TrimLeft(rest, " \t\f")
		m[unescapeProperties(t, key)] = unescapeProperties(t, rest)
	}
	return m
}

func unescapeProperties(t *testing.T, s string) string {
	t.Helper()
	var units []uint16
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			units = append(units, uint16(s[i]))
			continue
		}
		i++
		require.Less(t, i, len(s), "dangling backslash in %q", s)
		switch c := s[i]; c {
		case 't':
			units = append(units, '\t')
		case 'n':
			units = append(units, '\n')
		case 'r':
			units = append(units, '\r')
		case 'f':
			units = append(units, '\f')
		case 'u':
			require.LessOrEqual(t, i+5, len(s), "short \\u in %q", s)
			u, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			require.NoError(t, err)
			units = append(units, uint16(u))
			i += 4
		default:
			units = append(units, uint16(c))
		}
	}
	return string(utf16.Decode(units))
}

func ExampleFormat() {
	tmpl, err := Format("dotenv", nil)
	if err != nil {
		panic(err)
	}
	out, err := tmpl.Execute(map[string]Secret{
		"db-password": {Value: `pa$$ "word"`},
		"api_key":     {Value: "k1"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Print(string(out))
	// Output:
	// API_KEY="k1"
	// DB_PASSWORD="pa\$\$ \"word\""
}
