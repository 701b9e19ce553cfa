// Package templates is the template language of agent: Go's text/template with
// strict execution, a small set of functions over Key Vault secrets, built-in
// output formats, and redaction of secret values from every execution error.
//
// Nothing is fetched here. The caller parses a template, asks it which secrets
// it needs ([Template.Secrets], [Template.UsesAll]), fetches them, and passes
// them to [Template.Execute].
//
// # Functions
//
//	secret NAME       the value of the secret NAME (error if NAME was not passed in)
//	secretMeta NAME   a [Meta]: Version, ContentType, Tags, Enabled, Created,
//	                  Updated, Expires, NotBefore
//	toJSON V          V as JSON (no HTML escaping, no trailing newline)
//	fromJSON S        S parsed as JSON into maps, slices, strings, bools, nil and
//	                  json.Number (numbers print exactly as written):
//	                  {{ (secret "db" | fromJSON).password }}
//	b64enc S          standard base64 with padding
//	b64dec S          the inverse of b64enc (standard alphabet, padding required)
//	trim S            S without leading and trailing white space
//	indent N S        S with N spaces before every line, the first included
//	quote S           S as a Go double-quoted string literal
//	shellQuote S      S as one POSIX shell word in single quotes ('it'\''s')
//
// plus text/template's built-ins (printf, index, len, eq, …). Templates run
// with missingkey=error: a missing map key is an error, never "<no value>".
// A user template's dot is nil; secrets are reached only through the functions
// above, so [Template.Secrets] can list them before anything is fetched.
//
// Callers may add functions with [ParseWith]. A [SecretFunc] there is called
// as NAME "secret-name" like secret and secretMeta, receives the [Secret], and
// its constant arguments are listed by [Template.Secrets]; that is how cert and
// certPFX are meant to be added.
//
// # Which secrets a template uses
//
// [Template.Secrets] walks the parse tree and collects string constants passed
// to secret, secretMeta, cert, certPFX and every [SecretFunc]: as an argument
// (secret "db"), piped (`"db" | secret`), in parentheses, inside if, with,
// range, define and block. A name that is not a constant — secret $name,
// secret (printf "db_%s" $env) — cannot be seen; such a template fails closed
// at execution with `secret "…" is not defined` unless the caller passes that
// secret anyway.
//
// # Built-in formats
//
// [Format] returns one of the formats listed by [Formats], each an embedded
// template in formats/*.tmpl, over all secrets passed to Execute (sorted by
// name) or over a given list. Each line below shows the secret "db-url" with
// the value `a"b$c` and a newline:
//
//	dotenv      DB_URL="a\"b\$c\n"
//	json        {"db-url": "a\"b$c\n"}, indented by two spaces, one line per secret
//	yaml        db-url: "a\"b$c\n"
//	properties  db-url=a"b$c\n
//
// dotenv names are the reference name upper-cased, every byte outside
// [A-Z0-9_] replaced by "_", and "_" put before a leading digit; two secrets
// that map to the same name are an execution error. Values are in double
// quotes with exactly six escapes: \\ for a backslash, \" for a double quote,
// \$ for a dollar sign, \` for a backquote, \n for a line feed and \r for a
// carriage return; every other byte (tab, ', #, non-ASCII) is written as is.
// Docker Compose env_file and godotenv read this back exactly. A POSIX shell
// (set -a; . ./app.env) and systemd's EnvironmentFile read \\, \", \$ and \`
// the same way, so no value can expand a variable or run a command there, but
// they have no escape for a line break: a multi-line value comes out with a
// literal backslash-n. `docker run --env-file` does not unquote at all. Use
// json or yaml for multi-line values when those readers matter.
//
// json strings are escaped as yaml values are (below), so a json output is
// also valid YAML.
//
// yaml keys are written bare when they are plain identifiers that YAML cannot
// mistake for another type, else double-quoted. Values are always
// double-quoted, JSON style, with control characters, DEL, C1 controls,
// U+2028, U+2029 and U+FEFF written as \uXXXX, so the file is valid YAML 1.2
// and 1.1.
//
// properties follows java.util.Properties.store: \\, \=, \:, \#, \!, \t, \n,
// \r, \f escaped in keys and values, every space escaped in keys and a leading
// space in values, and everything outside printable ASCII as \uXXXX (UTF-16).
//
// json and yaml encode invalid UTF-8 as U+FFFD; Key Vault secret values are
// UTF-8 text, so this does not arise for values that come from Key Vault.
//
// # Secret values and errors
//
// An execution error is an [*ExecError]. Its message has every secret value
// passed in replaced by "[redacted]", whatever its length, and also every
// string of 4 bytes or more derived from one by fromJSON, b64dec, trim,
// indent, quote, shellQuote, b64enc or toJSON. Overlapping occurrences are
// all covered. The error wraps nothing, so errors.Unwrap cannot reach
// text/template's original message. Values built some other way (printf,
// slice) are covered only where they contain a secret value verbatim. Output
// is never partial: on error Execute returns no bytes.
package templates
