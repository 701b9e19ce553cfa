//go:build unix

package supervise

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"strings"
)

// UserSpec is the user and groups the command runs as (--user).
type UserSpec struct {
	Spec   string // as given, e.g. "app" or "1000:1000"
	UID    int
	GID    int   // primary group
	Groups []int // supplementary groups, including GID
	Name   string
	Home   string // "/" when the user has no passwd entry
}

// LookupUser resolves spec, NAME|UID[:GROUP|GID], against the user and
// group databases. A name must exist. A numeric UID without a passwd entry
// is accepted only with an explicit group, so that the command never ends
// up in group 0 by default. Without a group, the primary group and the
// supplementary groups are the user's own; with one, that group is the
// only group.
func LookupUser(spec string) (*UserSpec, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" || (hasGroup && groupPart == "") {
		return nil, fmt.Errorf("--user %q must be NAME or UID, optionally followed by :GROUP or :GID", spec)
	}
	u := &UserSpec{Spec: spec, Home: "/"}
	pw, err := lookupUser(userPart)
	if err != nil {
		return nil, err
	}
	if pw != nil {
		u.UID, _ = strconv.Atoi(pw.Uid)
		u.GID, _ = strconv.Atoi(pw.Gid)
		u.Name, u.Home = pw.Username, pw.HomeDir
	} else {
		u.UID, _ = strconv.Atoi(userPart)
		u.Name = userPart
		if !hasGroup {
			return nil, fmt.Errorf("--user %q: uid %s has no entry in the user database; give a group too, as %s:GID", spec, userPart, userPart)
		}
	}
	if hasGroup {
		gid, err := lookupGroup(groupPart)
		if err != nil {
			return nil, err
		}
		u.GID, u.Groups = gid, []int{gid}
		return u, nil
	}
	u.Groups = []int{u.GID}
	if ids, err := pw.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil && g != u.GID {
				u.Groups = append(u.Groups, g)
			}
		}
	}
	return u, nil
}

// lookupUser returns the passwd entry for a name or uid; nil for a valid
// numeric uid that has none.
func lookupUser(s string) (*user.User, error) {
	if isNumber(s) {
		if _, err := parseID(s); err != nil {
			return nil, fmt.Errorf("--user: %w", err)
		}
		pw, err := user.LookupId(s)
		var unknown user.UnknownUserIdError
		if errors.As(err, &unknown) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("look up user %s: %w", s, err)
		}
		return pw, nil
	}
	pw, err := user.Lookup(s)
	var unknown user.UnknownUserError
	if errors.As(err, &unknown) {
		return nil, fmt.Errorf("--user: unknown user %q", s)
	}
	if err != nil {
		return nil, fmt.Errorf("look up user %q: %w", s, err)
	}
	return pw, nil
}

func lookupGroup(s string) (int, error) {
	if isNumber(s) {
		id, err := parseID(s)
		if err != nil {
			return 0, fmt.Errorf("--user: %w", err)
		}
		return id, nil
	}
	g, err := user.LookupGroup(s)
	var unknown user.UnknownGroupError
	if errors.As(err, &unknown) {
		return 0, fmt.Errorf("--user: unknown group %q", s)
	}
	if err != nil {
		return 0, fmt.Errorf("look up group %q: %w", s, err)
	}
	return strconv.Atoi(g.Gid)
}

func parseID(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > 1<<32-2 {
		return 0, fmt.Errorf("invalid id %q", s)
	}
	return int(n), nil
}

func isNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
