package render

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretContent is written by every failing run; no error may contain it.
const secretContent = "s3cr3t-CONTENT-must-not-leak"

// scene is a directory with two existing files, ready for a run that writes
// them, one new file in a new directory, and one more file.
type scene struct {
	root       string
	a, c       string    // existing files
	aWas, cWas fileState // their state before the run
	newDir     string
	n          string // new file in newDir/sub
}

func newScene(t *testing.T) *scene {
	t.Helper()
	root := t.TempDir()
	s := &scene{root: root, a: filepath.Join(root, "a.env"), c: filepath.Join(root, "etc", "c.json"), newDir: filepath.Join(root, "new")}
	s.aWas = existing(t, s.a, "old a")
	s.cWas = existing(t, s.c, "old c")
	s.n = filepath.Join(s.newDir, "sub", "n.pem")
	return s
}

func (s *scene) files(extra ...File) []File {
	files := []File{
		{Path: s.a, Content: []byte(secretContent + " a"), UID: -1, GID: -1},
		{Path: s.n, Content: []byte(secretContent + " n"), UID: -1, GID: -1},
		{Path: s.c, Content: []byte(secretContent + " c"), UID: -1, GID: -1},
	}
	return append(files, extra...)
}

// assertUntouched checks that the run changed nothing a user can see.
func (s *scene) assertUntouched(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var we *WriteError
	assert.True(t, errors.As(err, &we), "a *WriteError: %v", err)
	assert.NotContains(t, err.Error(), secretContent)
	assert.Equal(t, s.aWas, stateOf(t, s.a), "a restored: same inode, content, mtime")
	assert.Equal(t, s.cWas, stateOf(t, s.c), "c restored: same inode, content, mtime")
	_, statErr := os.Lstat(s.newDir)
	assert.True(t, os.IsNotExist(statErr), "directories created by the run are removed")
	assertNoLeftovers(t, s.root, filepath.Dir(s.c))
}

func TestWriteFailsInPhaseOne(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, s *scene) File
		path  string // the path the error names, relative to root
	}{
		{"parent is a regular file", func(t *testing.T, s *scene) File {
			existing(t, filepath.Join(s.root, "regular"), "x")
			return File{Path: filepath.Join(s.root, "regular", "f"), Content: []byte(secretContent)}
		}, "regular/f"},
		{"ancestor is a regular file", func(t *testing.T, s *scene) File {
			existing(t, filepath.Join(s.root, "regular"), "x")
			return File{Path: filepath.Join(s.root, "regular", "d", "f"), Content: []byte(secretContent)}
		}, "regular/d"},
		{"target is a directory", func(t *testing.T, s *scene) File {
			require.NoError(t, os.MkdirAll(filepath.Join(s.root, "isdir", "inside"), 0o755))
			return File{Path: filepath.Join(s.root, "isdir"), Content: []byte(secretContent)}
		}, "isdir"},
		{"target is a fifo", func(t *testing.T, s *scene) File {
			require.NoError(t, syscall.Mkfifo(filepath.Join(s.root, "fifo"), 0o600))
			return File{Path: filepath.Join(s.root, "fifo"), Content: []byte(secretContent)}
		}, "fifo"},
		{"read-only directory", func(t *testing.T, s *scene) File {
			if os.Geteuid() == 0 {
				t.Skip("root ignores directory permissions; covered by the other cases")
			}
			ro := filepath.Join(s.root, "ro")
			require.NoError(t, os.Mkdir(ro, 0o500))
			t.Cleanup(func() { _ = os.Chmod(ro, 0o700) })
			return File{Path: filepath.Join(ro, "f"), Content: []byte(secretContent)}
		}, "ro/f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newScene(t)
			bad := tt.setup(t, s)
			bad.UID, bad.GID = -1, -1
			res, err := WriteAll(s.files(bad))
			assert.Nil(t, res)
			s.assertUntouched(t, err)
			var we *WriteError
			require.True(t, errors.As(err, &we))
			assert.Equal(t, filepath.Join(s.root, tt.path), we.Path)
		})
	}
}

// failingRename fails renames onto the listed targets.
func failingRename(targets ...string) func(string, string) error {
	return func(oldpath, newpath string) error {
		for _, t := range targets {
			if newpath == t {
				return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EIO}
			}
		}
		return os.Rename(oldpath, newpath)
	}
}

func TestWriteFailsInPhaseTwoRollsBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		failOn func(s *scene) string
	}{
		{"last rename fails", func(s *scene) string { return filepath.Join(s.root, "last") }},
		{"middle rename fails", func(s *scene) string { return s.c }},
		{"new file rename fails", func(s *scene) string { return s.n }},
		{"first rename fails", func(s *scene) string { return s.a }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newScene(t)
			last := filepath.Join(s.root, "last")
			lastWas := existing(t, last, "old last")
			w := writer{rename: failingRename(tt.failOn(s)), link: os.Link}
			res, err := w.writeAll(s.files(File{Path: last, Content: []byte(secretContent), UID: -1, GID: -1}))
			assert.Nil(t, res)
			s.assertUntouched(t, err)
			assert.Equal(t, lastWas, stateOf(t, last))
			assert.ErrorIs(t, err, syscall.EIO)
			var we *WriteError
			require.True(t, errors.As(err, &we))
			assert.Equal(t, tt.failOn(s), we.Path)
		})
	}
}

func TestWriteRollbackFailureKeepsBackup(t *testing.T) {
	t.Parallel()
	s := newScene(t)
	// c's rename fails, and so does restoring a from its backup.
	w := writer{rename: failingRename(s.c), link: os.Link}
	restoreFails := w.rename
	w.rename = func(oldpath, newpath string) error {
		if newpath == s.a && strings.Contains(oldpath, ".agent-bak-") {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EROFS}
		}
		return restoreFails(oldpath, newpath)
	}
	_, err := w.writeAll(s.files())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secretContent)
	assert.Contains(t, err.Error(), "previous content kept in "+filepath.Join(s.root, ".a.env.agent-bak-"))
	entries, err2 := filepath.Glob(filepath.Join(s.root, ".a.env.agent-bak-*"))
	require.NoError(t, err2)
	require.Len(t, entries, 1)
	assert.Equal(t, s.aWas.ino, stateOf(t, entries[0]).ino, "the backup is the old file")
	assert.Equal(t, s.cWas, stateOf(t, s.c))
}

func TestWriteBackupFailureChangesNothing(t *testing.T) {
	t.Parallel()
	s := newScene(t)
	w := writer{rename: os.Rename, link: func(string, string) error { return syscall.EPERM }}
	_, err := w.writeAll(s.files())
	s.assertUntouched(t, err)
	assert.Contains(t, err.Error(), "back up before replacing")
}

func TestWriteSingleFileNeedsNoHardLinks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "only")
	existing(t, path, "old")
	w := writer{rename: os.Rename, link: func(string, string) error { return syscall.EPERM }}
	res, err := w.writeAll([]File{{Path: path, Content: []byte("new"), UID: -1, GID: -1}})
	require.NoError(t, err)
	assert.True(t, res[0].Changed)
	assert.Equal(t, "new", stateOf(t, path).content)
}
