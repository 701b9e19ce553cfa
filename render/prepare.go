package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// prepare is phase 1 for one file: parent directories, comparison with the
// existing file, and the temporary file. It returns the directories it
// created, even on error, so that the caller can remove them.
func (p *plan) prepare() ([]string, error) {
	created, err := mkdirs(p.dir, p.DirMode, p.UID, p.GID)
	if err != nil {
		return created, err
	}
	unchanged, err := p.compare()
	if err != nil {
		return created, &WriteError{Path: p.Path, Err: err}
	}
	if unchanged {
		return created, nil
	}
	p.changed = true
	if err := p.writeTemp(); err != nil {
		return created, &WriteError{Path: p.Path, Err: err}
	}
	return created, nil
}

// mkdirs creates dir and its missing parents with mode (whatever the umask)
// and owner, returning the directories it created, parents first.
func mkdirs(dir string, mode os.FileMode, uid, gid int) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, &WriteError{Path: d, Err: err}
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := os.Mkdir(d, mode); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue // created meanwhile by someone else: not ours to remove
			}
			return created, &WriteError{Path: d, Err: err}
		}
		created = append(created, d)
		if err := os.Chmod(d, mode); err != nil {
			return created, &WriteError{Path: d, Err: err}
		}
		if uid >= 0 || gid >= 0 {
			if err := os.Chown(d, uid, gid); err != nil {
				return created, &WriteError{Path: d, Err: err}
			}
		}
	}
	return created, nil
}

// compare reports whether the target already has the content, mode and
// owner wanted. It also records whether something exists at the path.
func (p *plan) compare() (bool, error) {
	fi, err := os.Lstat(p.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p.existed = true
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return false, nil // replaced by a regular file
	case fi.IsDir():
		return false, errors.New("target is a directory")
	case !fi.Mode().IsRegular():
		return false, fmt.Errorf("target is not a regular file (%v)", fi.Mode().Type())
	}
	if fi.Size() != int64(len(p.Content)) || fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != p.Mode {
		return false, nil
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if (p.UID >= 0 && int(st.Uid) != p.UID) || (p.GID >= 0 && int(st.Gid) != p.GID) {
			return false, nil
		}
	}
	old, err := os.ReadFile(p.Path)
	if err != nil {
		return false, err
	}
	return bytes.Equal(old, p.Content), nil
}

// writeTemp writes the content to a new temporary file next to the target,
// with its final owner and mode, synced to disk.
func (p *plan) writeTemp() error {
	f, err := os.CreateTemp(p.dir, "."+p.base+".agent-tmp-*") // mode 0600
	if err != nil {
		return err
	}
	p.temp = f.Name()
	err = writeSyncClose(f, p.Content, p.Mode, p.UID, p.GID)
	if err != nil {
		_ = os.Remove(p.temp)
		p.temp = ""
	}
	return err
}

func writeSyncClose(f *os.File, content []byte, mode os.FileMode, uid, gid int) error {
	_, err := f.Write(content)
	if err == nil && (uid >= 0 || gid >= 0) {
		err = f.Chown(uid, gid) // before chmod: chown may clear mode bits
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
