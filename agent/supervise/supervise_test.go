package supervise

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLookPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	other := filepath.Join(dir, "other")
	for _, d := range []string{bin, other, filepath.Join(bin, "adir")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, mode os.FileMode) {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bin, "app"), 0o755)
	write(filepath.Join(bin, "noexec"), 0o644)
	write(filepath.Join(other, "noexec"), 0o755)
	write(filepath.Join(other, "rootonly"), 0o700)
	nobody := &UserSpec{UID: 65534, GID: 65534, Groups: []int{65534}}
	pathList := bin + ":" + other

	cases := []struct {
		name, cmd, path string
		as              *UserSpec
		want            string // found path
		code            int
		msg             string
	}{
		{"found in PATH", "app", pathList, nil, filepath.Join(bin, "app"), 0, ""},
		{"skips a non-executable match", "noexec", pathList, nil, filepath.Join(other, "noexec"), 0, ""},
		{"absolute path", filepath.Join(bin, "app"), "", nil, filepath.Join(bin, "app"), 0, ""},
		{"not in PATH", "nope", pathList, nil, "", 127, "nope: command not found"},
		{"empty name", "", pathList, nil, "", 127, ": command not found"},
		{"relative PATH entries are skipped", "app", "bin:.", nil, "", 127, "app: command not found"},
		{"missing file by path", filepath.Join(bin, "nope"), "", nil, "", 127, "/nope: No such file or directory"},
		{"path through a file", filepath.Join(bin, "app", "x"), "", nil, "", 127, "No such file or directory"},
		{"only non-executable in PATH", "noexec", bin, nil, "", 126, "noexec: Permission denied"},
		{"non-executable by path", filepath.Join(bin, "noexec"), "", nil, "", 126, "Permission denied"},
		{"directory by path", filepath.Join(bin, "adir"), "", nil, "", 126, "adir: Is a directory"},
		{"directory in PATH is not a match", "adir", bin, nil, "", 126, "adir: Is a directory"},
		{"executable by another user", "app", pathList, nobody, filepath.Join(bin, "app"), 0, ""},
		{"owner-only file for another user", "rootonly", pathList, nobody, "", 126, "rootonly: Permission denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.name == "owner-only file for another user" && os.Getuid() != 0 {
				t.Skip("needs root to own a file another user cannot execute")
			}
			got, err := LookPath(tc.cmd, tc.path, tc.as)
			if tc.code == 0 {
				if err != nil || got != tc.want {
					t.Fatalf("LookPath = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.code || !strings.HasSuffix(err.Error(), tc.msg) {
				t.Fatalf("LookPath = %q, %v; want code %d and %q", got, err, tc.code, tc.msg)
			}
		})
	}
}

func TestLookupUser(t *testing.T) {
	t.Parallel()
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody:", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	cases := []struct {
		spec     string
		uid, gid int
		home     string
		err      string
	}{
		{spec: "nobody", uid: uid, gid: gid, home: nobody.HomeDir},
		{spec: nobody.Uid, uid: uid, gid: gid, home: nobody.HomeDir},
		{spec: "nobody:0", uid: uid, gid: 0, home: nobody.HomeDir},
		{spec: "root:" + nobody.Gid, uid: 0, gid: gid},
		{spec: "4000:4001", uid: 4000, gid: 4001, home: "/"},
		{spec: "4000", err: "give a group too"},
		{spec: "no-such-user-xyz", err: `unknown user "no-such-user-xyz"`},
		{spec: "nobody:no-such-group-xyz", err: `unknown group "no-such-group-xyz"`},
		{spec: "99999999999", err: "invalid id"},
		{spec: "nobody:", err: "must be NAME or UID"},
		{spec: ":0", err: "must be NAME or UID"},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			u, err := LookupUser(tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("LookupUser = %+v, %v; want error %q", u, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.UID != tc.uid || u.GID != tc.gid || u.Groups[0] != tc.gid {
				t.Errorf("got uid %d gid %d groups %v, want %d %d", u.UID, u.GID, u.Groups, tc.uid, tc.gid)
			}
			if tc.home != "" && u.Home != tc.home {
				t.Errorf("home %q, want %q", u.Home, tc.home)
			}
		})
	}
}

// TestExecFailures: when execve fails, Exec returns (the test process is
// not replaced) with the shell's wording and code. Not parallel: a script
// written while another test forks can be held open by that child for a
// moment, and execve then fails with "text file busy" instead.
func TestExecFailures(t *testing.T) {
	dir := t.TempDir()
	noShebang := filepath.Join(dir, "script")
	if err := os.WriteFile(noShebang, []byte("\x00\x01\x02 not a program"), 0o755); err != nil {
		t.Fatal(err)
	}
	badInterp := filepath.Join(dir, "badinterp")
	if err := os.WriteFile(badInterp, []byte("#!/no/such/interpreter\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		code int
		msg  string
	}{
		{filepath.Join(dir, "missing"), 127, "No such file or directory"},
		{badInterp, 127, "No such file or directory"},
		{noShebang, 126, "Exec format error"},
		{dir, 126, ""},
	}
	for _, tc := range cases {
		err := Exec(tc.path, []string{tc.path}, nil, nil)
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.code || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), tc.path+": ") {
			t.Errorf("Exec(%s) = %v; want code %d and %q", tc.path, err, tc.code, tc.msg)
		}
	}
}
