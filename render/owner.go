package render

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
)

// maxID is the largest user or group id accepted: uid_t is 32 bits and
// 4294967295 means "no change" to chown.
const maxID = 1<<32 - 2

// LookupOwner resolves a user and a group, each a name or a numeric id, to
// ids for [File]. An empty owner or group gives -1 (leave as created). A
// numeric id is used as is, even when no such user exists, as chown does; a
// name must exist in the user or group database.
func LookupOwner(owner, group string) (uid, gid int, err error) {
	uid, err = lookupID(owner, "user", func(name string) (string, error) {
		u, err := user.Lookup(name)
		if err != nil {
			var unknown user.UnknownUserError
			if errors.As(err, &unknown) {
				return "", fmt.Errorf("unknown user %q", name)
			}
			return "", fmt.Errorf("look up user %q: %w", name, err)
		}
		return u.Uid, nil
	})
	if err != nil {
		return -1, -1, err
	}
	gid, err = lookupID(group, "group", func(name string) (string, error) {
		g, err := user.LookupGroup(name)
		if err != nil {
			var unknown user.UnknownGroupError
			if errors.As(err, &unknown) {
				return "", fmt.Errorf("unknown group %q", name)
			}
			return "", fmt.Errorf("look up group %q: %w", name, err)
		}
		return g.Gid, nil
	})
	if err != nil {
		return -1, -1, err
	}
	return uid, gid, nil
}

// lookupID returns -1 for "", the number for a numeric id, or the id that
// lookup finds for a name.
func lookupID(s, kind string, lookup func(string) (string, error)) (int, error) {
	if s == "" {
		return -1, nil
	}
	if isDigits(s) {
		return parseID(s, kind)
	}
	id, err := lookup(s)
	if err != nil {
		return -1, err
	}
	return parseID(id, kind)
}

func parseID(s, kind string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > maxID {
		return -1, fmt.Errorf("invalid %s id %q", kind, s)
	}
	return int(n), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
