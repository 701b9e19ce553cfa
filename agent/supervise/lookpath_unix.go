//go:build unix

package supervise

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// DefaultPath is searched when the child's environment has no PATH.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// LookPath finds the command name the way a shell does. A name containing
// a slash is used as is; any other name is searched in pathList (a PATH
// value; DefaultPath when empty), first executable match wins. Relative
// PATH entries (including empty ones, meaning ".") are skipped, as
// os/exec does, so that a command is never picked up from the working
// directory by accident.
//
// When as is not nil, "executable" means executable by that user, judged
// from the file's mode bits; otherwise by the calling process.
//
// The error is an *Error: CodeNotFound ("command not found", "No such
// file or directory") or CodeNotExecutable ("Permission denied", "Is a
// directory").
func LookPath(name, pathList string, as *UserSpec) (string, error) {
	if strings.Contains(name, "/") {
		if err := executable(name, as); err != nil {
			return "", withName(name, err)
		}
		return name, nil
	}
	if pathList == "" {
		pathList = DefaultPath
	}
	var denied *Error
	if name != "" {
		for _, dir := range filepath.SplitList(pathList) {
			if !filepath.IsAbs(dir) {
				continue
			}
			p := filepath.Join(dir, name)
			err := executable(p, as)
			if err == nil {
				return p, nil
			}
			if err.Code == CodeNotExecutable && denied == nil {
				denied = err
			}
		}
	}
	if denied != nil {
		return "", withName(name, denied)
	}
	return "", &Error{Name: name, Code: CodeNotFound, Msg: "command not found"}
}

func withName(name string, e *Error) *Error {
	c := *e
	c.Name = name
	return &c
}

// executable checks that path is a file that as (or this process) may
// execute.
func executable(path string, as *UserSpec) *Error {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return &Error{Name: path, Code: CodeNotFound, Msg: "No such file or directory", Err: err}
		}
		return &Error{Name: path, Code: CodeNotExecutable, Msg: "Permission denied", Err: err}
	}
	if fi.IsDir() {
		return &Error{Name: path, Code: CodeNotExecutable, Msg: "Is a directory"}
	}
	if as != nil {
		if !as.mayExecute(fi) {
			return &Error{Name: path, Code: CodeNotExecutable, Msg: "Permission denied"}
		}
		return nil
	}
	const xOK = 1
	if err := syscall.Access(path, xOK); err != nil {
		return &Error{Name: path, Code: CodeNotExecutable, Msg: "Permission denied", Err: err}
	}
	return nil
}

// mayExecute judges from fi's owner and mode bits whether u may execute it.
func (u *UserSpec) mayExecute(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	if u.UID == 0 {
		return perm&0o111 != 0
	}
	if int(st.Uid) == u.UID {
		return perm&0o100 != 0
	}
	if u.inGroup(int(st.Gid)) {
		return perm&0o010 != 0
	}
	return perm&0o001 != 0
}

func (u *UserSpec) inGroup(gid int) bool {
	if gid == u.GID {
		return true
	}
	for _, g := range u.Groups {
		if g == gid {
			return true
		}
	}
	return false
}
