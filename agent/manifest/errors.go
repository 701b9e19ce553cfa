package manifest

import (
	"sort"
	"strconv"
	"strings"

	"github.com/kv-agent/agent/agent/internal/errlist"
)

// Pos is a position in the manifest file. Line and Col count from 1; zero
// means unknown (for example an identity the manifest did not declare).
type Pos struct{ Line, Col int }

// Error is one problem found in a manifest. Its Error method formats it as
//
//	agent.yaml:12:5: secrets.db: vault "mian" is not defined (did you mean "main"?)
//
// that is File, Pos.Line, Pos.Col, the dotted Field path and Msg. Parts that
// are unknown (zero Pos, empty Field) are left out. Msg never contains a
// secret value.
type Error struct {
	File  string // the manifest path as given to Load or Parse
	Pos   Pos
	Field string // dotted path such as "files[2].mode" or "identities.legacy.clientId"
	Msg   string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Pos.Line))
		if e.Pos.Col > 0 {
			b.WriteString(":" + strconv.Itoa(e.Pos.Col))
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a manifest, in file order, one line
// each. Load and Parse return it (as an error) when it is not empty; use
// errors.As to get at the individual entries.
type Errors = errlist.List[*Error]

// dedupe sorts errors by position and drops repeats of the same message at
// the same position (an anchored mapping used twice is checked twice).
func dedupe(es Errors) Errors {
	sortErrors(es)
	out := es[:0]
	seen := map[string]bool{}
	for _, e := range es {
		k := strconv.Itoa(e.Pos.Line) + ":" + strconv.Itoa(e.Pos.Col) + ":" + e.Msg
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// sortErrors orders errors by position; errors without a position come first.
func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Suggest returns the candidate closest to name, for "did you mean" hints:
// the one with the smallest case-insensitive edit distance, if that distance
// is at most 2 and smaller than the length of name. It returns "" when no
// candidate is close enough. Ties go to the candidate that sorts first.
func Suggest(name string, candidates []string) string {
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	best, bestDist := "", 3
	lname := strings.ToLower(name)
	for _, c := range sorted {
		if c == name {
			continue
		}
		d := editDistance(lname, strings.ToLower(c))
		if d < bestDist && d < len([]rune(name)) {
			best, bestDist = c, d
		}
	}
	return best
}

// didYouMean formats the result of Suggest as a message suffix.
func didYouMean(name string, candidates []string) string {
	if s := Suggest(name, candidates); s != "" {
		return " (did you mean " + strconv.Quote(s) + "?)"
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
