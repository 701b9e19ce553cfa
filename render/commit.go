package render

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// commit is phase 2: back up, rename every temporary file over its target,
// and on a failed rename restore what was already replaced.
func (w writer) commit(plans []*plan) error {
	var changed []*plan
	for _, p := range plans {
		if p.changed {
			changed = append(changed, p)
		}
	}
	// The last rename needs no backup: if it fails, it replaced nothing.
	for i, p := range changed {
		if i == len(changed)-1 || !p.existed {
			continue
		}
		if err := w.backup(p); err != nil {
			return &WriteError{Path: p.Path, Err: fmt.Errorf("back up before replacing: %w", err)}
		}
	}
	for i, p := range changed {
		if err := w.rename(p.temp, p.Path); err != nil {
			rollbackErr := w.rollback(changed[:i])
			return &WriteError{Path: p.Path, Err: errors.Join(err, rollbackErr)}
		}
		p.temp = ""
	}
	for _, p := range changed {
		removeIfSet(p.backup)
		p.backup = ""
	}
	return nil
}

// backup hard-links the current target to a fresh name in its directory.
func (w writer) backup(p *plan) error {
	for range 10 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		name := filepath.Join(p.dir, "."+p.base+".agent-bak-"+hex.EncodeToString(b[:]))
		err := w.link(p.Path, name)
		if err == nil {
			p.backup = name
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return errors.New("no free backup name")
}

// rollback undoes the renames of done, last first: a target that existed is
// restored from its backup, a new one is removed. A backup that cannot be
// restored is left in place and named in the error.
func (w writer) rollback(done []*plan) error {
	var errs []error
	for i := len(done) - 1; i >= 0; i-- {
		p := done[i]
		var err error
		if p.backup != "" {
			err = w.rename(p.backup, p.Path)
			if err != nil {
				// Keep the backup: it is now the only copy of the old file.
				err = fmt.Errorf("%w (previous content kept in %s)", err, p.backup)
			}
			p.backup = ""
		} else {
			err = os.Remove(p.Path)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", p.Path, err))
		}
	}
	return errors.Join(errs...)
}

// syncDirs fsyncs, once each, the directories of the replaced files and the
// parents of the directories this run created.
func syncDirs(plans []*plan, created []string) error {
	var dirs []string
	seen := map[string]bool{}
	add := func(d string) {
		if !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	for _, d := range created {
		add(filepath.Dir(d))
	}
	for _, p := range plans {
		if p.changed {
			add(p.dir)
		}
	}
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return &WriteError{Path: d, Err: fmt.Errorf("sync directory: %w", err)}
		}
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
