package render

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteModesIgnoreUmask is not parallel: it changes the process umask.
func TestWriteModesIgnoreUmask(t *testing.T) {
	for _, umask := range []int{0o077, 0o000} {
		old := syscall.Umask(umask)
		dir := t.TempDir()
		files := []File{
			{Path: filepath.Join(dir, "default"), Content: []byte("a")},
			{Path: filepath.Join(dir, "new", "sub", "open"), Content: []byte("b"), Mode: 0o644, DirMode: 0o755},
		}
		_, err := WriteAll(files)
		syscall.Umask(old)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), permOf(t, files[0].Path), "umask %o", umask)
		assert.Equal(t, os.FileMode(0o644), permOf(t, files[1].Path), "umask %o", umask)
		assert.Equal(t, os.FileMode(0o755), permOf(t, filepath.Join(dir, "new")), "umask %o", umask)
		assert.Equal(t, os.FileMode(0o755), permOf(t, filepath.Join(dir, "new", "sub")), "umask %o", umask)
	}
}

func TestWriteNewFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mode     os.FileMode
		dirMode  os.FileMode
		wantMode os.FileMode
		wantDir  os.FileMode
	}{
		{"defaults", 0, 0, 0o600, 0o700},
		{"group readable", 0o640, 0o750, 0o640, 0o750},
		{"read only", 0o400, 0o500, 0o400, 0o500},
		{"world readable", 0o644, 0o755, 0o644, 0o755},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			require.NoError(t, os.Chmod(root, 0o711))
			path := filepath.Join(root, "a", "b", "secret.env")
			res, err := WriteAll([]File{{Path: path, Content: []byte("KEY=v\n"), Mode: tt.mode, DirMode: tt.dirMode, UID: -1, GID: -1}})
			require.NoError(t, err)
			assert.Equal(t, []Result{{Path: path, Bytes: 6, Changed: true}}, res)
			s := stateOf(t, path)
			assert.Equal(t, "KEY=v\n", s.content)
			assert.Equal(t, tt.wantMode, s.mode)
			assert.Equal(t, tt.wantDir, permOf(t, filepath.Join(root, "a")))
			assert.Equal(t, tt.wantDir, permOf(t, filepath.Join(root, "a", "b")))
			assert.Equal(t, os.FileMode(0o711), permOf(t, root), "existing directories keep their mode")
			assertNoLeftovers(t, filepath.Dir(path))
		})
	}
}

func TestWriteUnchangedIsNotRewritten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.json")
	before := existing(t, path, "{}\n")
	require.NoError(t, os.Chtimes(dir, before.mtime, before.mtime))

	res, err := WriteAll([]File{{Path: path, Content: []byte("{}\n"), UID: -1, GID: -1}})
	require.NoError(t, err)
	assert.Equal(t, []Result{{Path: path, Bytes: 3, Changed: false}}, res)
	assert.Equal(t, before, stateOf(t, path), "same inode, same mtime")
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, before.mtime, fi.ModTime(), "no temporary file was created in the directory")
}

func TestWriteChangedIsReplaced(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
	}{
		{"new content", "{\"v\":2}\n", 0o600},
		{"same length", "{\"v\":9}\n", 0o600},
		{"mode only", "{\"v\":1}\n", 0o640},
		{"empty content", "", 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "app.json")
			before := existing(t, path, "{\"v\":1}\n")
			// Another name for the old inode shows it was never truncated in place.
			oldLink := path + ".old"
			require.NoError(t, os.Link(path, oldLink))

			res, err := WriteAll([]File{{Path: path, Content: []byte(tt.content), Mode: tt.mode, UID: -1, GID: -1}})
			require.NoError(t, err)
			assert.True(t, res[0].Changed)
			after := stateOf(t, path)
			assert.Equal(t, tt.content, after.content)
			assert.Equal(t, tt.mode, after.mode)
			assert.NotEqual(t, before.ino, after.ino, "replaced by a new file")
			assert.Equal(t, before, stateOf(t, oldLink), "old inode untouched")
			assertNoLeftovers(t, filepath.Dir(path))
		})
	}
}

func TestWriteOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("changing owners needs root")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "new", "owned")
	f := File{Path: path, Content: []byte("x"), UID: 65534, GID: 65533}
	res, err := WriteAll([]File{f})
	require.NoError(t, err)
	assert.True(t, res[0].Changed)
	s := stateOf(t, path)
	assert.Equal(t, 65534, s.uid)
	assert.Equal(t, 65533, s.gid)
	assert.Equal(t, os.FileMode(0o600), s.mode)
	d := stateOfDir(t, filepath.Join(dir, "new"))
	assert.Equal(t, [2]int{65534, 65533}, d, "created directory owned like the file")

	res, err = WriteAll([]File{f})
	require.NoError(t, err)
	assert.False(t, res[0].Changed, "same content, mode and owner")
	assert.Equal(t, s.ino, stateOf(t, path).ino)

	f.GID = 0
	res, err = WriteAll([]File{f})
	require.NoError(t, err)
	assert.True(t, res[0].Changed, "group differs")
	s2 := stateOf(t, path)
	assert.Equal(t, 65534, s2.uid)
	assert.Equal(t, 0, s2.gid)
	assert.NotEqual(t, s.ino, s2.ino)

	f.UID, f.GID = -1, -1
	res, err = WriteAll([]File{f})
	require.NoError(t, err)
	assert.False(t, res[0].Changed, "owner not asked for, so not compared")
}

func stateOfDir(t *testing.T, dir string) [2]int {
	t.Helper()
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	return [2]int{int(st.Uid), int(st.Gid)}
}

func TestWriteSymlinks(t *testing.T) {
	t.Parallel()
	t.Run("symlinked directory is followed", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		real := filepath.Join(root, "real")
		require.NoError(t, os.Mkdir(real, 0o755))
		link := filepath.Join(root, "current")
		require.NoError(t, os.Symlink(real, link))
		before := existing(t, filepath.Join(real, "f"), "old")

		res, err := WriteAll([]File{{Path: filepath.Join(link, "f"), Content: []byte("new"), UID: -1, GID: -1}})
		require.NoError(t, err)
		assert.True(t, res[0].Changed)
		after := stateOf(t, filepath.Join(real, "f"))
		assert.Equal(t, "new", after.content)
		assert.NotEqual(t, before.ino, after.ino)
		fi, err := os.Lstat(link)
		require.NoError(t, err)
		assert.NotZero(t, fi.Mode()&os.ModeSymlink, "the link itself stays a link")
		assertNoLeftovers(t, real)
	})
	t.Run("symlink target is replaced, its referent kept", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		other := filepath.Join(root, "other")
		before := existing(t, other, "referent")
		path := filepath.Join(root, "f")
		require.NoError(t, os.Symlink(other, path))

		_, err := WriteAll([]File{{Path: path, Content: []byte("referent"), UID: -1, GID: -1}})
		require.NoError(t, err)
		fi, err := os.Lstat(path)
		require.NoError(t, err)
		assert.True(t, fi.Mode().IsRegular())
		assert.Equal(t, before, stateOf(t, other))
	})
}

func TestWriteValidation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name  string
		files []File
		want  string
	}{
		{"relative path", []File{{Path: "rel/file"}}, "write rel/file: path is not absolute"},
		{"root", []File{{Path: "/"}}, "path is the root directory"},
		{"twice", []File{{Path: filepath.Join(dir, "a")}, {Path: filepath.Join(dir, ".", "a")}}, "path is listed twice"},
		{"special mode bits", []File{{Path: filepath.Join(dir, "b"), Mode: os.ModeSetuid | 0o755}}, "bits other than permissions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := WriteAll(tt.files)
			var we *WriteError
			require.True(t, errors.As(err, &we), "error %v", err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "invalid input writes nothing")
}

func TestWriteResultsInOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	existing(t, filepath.Join(dir, "same"), "same")
	files := []File{
		{Path: filepath.Join(dir, "z"), Content: []byte("zz"), UID: -1, GID: -1},
		{Path: filepath.Join(dir, "same"), Content: []byte("same"), UID: -1, GID: -1},
		{Path: filepath.Join(dir, "a"), Content: []byte("a"), UID: -1, GID: -1},
	}
	res, err := WriteAll(files)
	require.NoError(t, err)
	assert.Equal(t, []Result{
		{Path: files[0].Path, Bytes: 2, Changed: true},
		{Path: files[1].Path, Bytes: 4, Changed: false},
		{Path: files[2].Path, Bytes: 1, Changed: true},
	}, res)
	assertNoLeftovers(t, dir)
	for _, f := range files {
		assert.Equal(t, string(f.Content), stateOf(t, f.Path).content)
	}
}
