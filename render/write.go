package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Default modes when File leaves them zero.
const (
	DefaultMode    os.FileMode = 0o600
	DefaultDirMode os.FileMode = 0o700
)

// File is one output to put in place.
type File struct {
	Path    string      // absolute
	Content []byte      // never appears in errors
	Mode    os.FileMode // permission bits; 0 means DefaultMode (0600)
	DirMode os.FileMode // for parent directories WriteAll creates; 0 means DefaultDirMode (0700)
	// UID and GID own the file and the directories WriteAll creates for it;
	// -1 leaves that id as the process creates it. Use [LookupOwner].
	UID, GID int
}

// Result says what WriteAll did with one file.
type Result struct {
	Path    string
	Bytes   int  // len(Content)
	Changed bool // false when the file already had this content, mode and owner
}

// WriteError is a failure to put an output in place (exit code 73, "cannot
// write output"). Path is the file or directory concerned. Its message never
// contains file contents.
type WriteError struct {
	Path string
	Err  error
}

func (e *WriteError) Error() string { return "write " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error, typically an *fs.PathError.
func (e *WriteError) Unwrap() error { return e.Err }

// WriteAll puts every file in place, or none of them: see the package
// documentation for the protocol. It returns one Result per file, in order.
// Every error is a [*WriteError]. If the final directory fsync fails, the
// files are already in place: WriteAll returns the results with the error.
// Calls for disjoint paths may run concurrently; concurrent calls for the same
// path are not coordinated.
func WriteAll(files []File) ([]Result, error) {
	return writer{rename: os.Rename, link: os.Link}.writeAll(files)
}

// writer holds the file system operations that tests need to fail on demand.
type writer struct {
	rename func(oldpath, newpath string) error
	link   func(oldpath, newpath string) error
}

// plan is the state of one file through both phases.
type plan struct {
	File
	dir     string
	base    string
	changed bool
	existed bool   // something is at Path and will be replaced
	temp    string // phase 1's temporary file
	backup  string // phase 2's hard link to the old target
}

func (w writer) writeAll(files []File) ([]Result, error) {
	plans, err := makePlans(files)
	if err != nil {
		return nil, err
	}
	var created []string // directories this run created, parents first
	committed := false
	defer func() {
		if !committed {
			for _, p := range plans {
				removeIfSet(p.temp)
				removeIfSet(p.backup)
			}
			removeEmptyDirs(created)
		}
	}()
	for _, p := range plans {
		dirs, err := p.prepare()
		created = append(created, dirs...)
		if err != nil {
			return nil, err
		}
	}
	if err := w.commit(plans); err != nil {
		return nil, err
	}
	committed = true
	results := make([]Result, len(plans))
	for i, p := range plans {
		results[i] = Result{Path: p.Path, Bytes: len(p.Content), Changed: p.changed}
	}
	return results, syncDirs(plans, created)
}

// makePlans validates files and fills in defaults.
func makePlans(files []File) ([]*plan, error) {
	plans := make([]*plan, 0, len(files))
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		if !filepath.IsAbs(f.Path) {
			return nil, &WriteError{Path: f.Path, Err: errors.New("path is not absolute")}
		}
		clean := filepath.Clean(f.Path)
		if clean == "/" {
			return nil, &WriteError{Path: f.Path, Err: errors.New("path is the root directory")}
		}
		if seen[clean] {
			return nil, &WriteError{Path: f.Path, Err: errors.New("path is listed twice")}
		}
		seen[clean] = true
		if f.Mode == 0 {
			f.Mode = DefaultMode
		}
		if f.DirMode == 0 {
			f.DirMode = DefaultDirMode
		}
		if f.Mode&^fs.ModePerm != 0 || f.DirMode&^fs.ModePerm != 0 {
			return nil, &WriteError{Path: f.Path, Err: fmt.Errorf("mode %v or directory mode %v has bits other than permissions", f.Mode, f.DirMode)}
		}
		plans = append(plans, &plan{File: f, dir: filepath.Dir(clean), base: filepath.Base(clean)})
		plans[len(plans)-1].Path = f.Path
	}
	return plans, nil
}

// removeIfSet removes path unless it is empty; errors are ignored because
// this only runs while cleaning up after another error.
func removeIfSet(path string) {
	if path != "" {
		_ = os.Remove(path)
	}
}

// removeEmptyDirs removes the directories a failed run created, deepest
// first, leaving any that are not empty.
func removeEmptyDirs(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		_ = os.Remove(created[i])
	}
}
