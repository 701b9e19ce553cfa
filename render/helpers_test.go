package render

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fileState is what a user can observe of a file.
type fileState struct {
	content string
	mode    os.FileMode
	ino     uint64
	mtime   time.Time
	uid     int
	gid     int
}

func stateOf(t *testing.T, path string) fileState {
	t.Helper()
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	st := fi.Sys().(*syscall.Stat_t)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return fileState{content: string(b), mode: fi.Mode(), ino: st.Ino, mtime: fi.ModTime(), uid: int(st.Uid), gid: int(st.Gid)}
}

// existing writes an old file with an mtime in the past, so that a rewrite
// would show.
func existing(t *testing.T, path, content string) fileState {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	require.NoError(t, os.Chtimes(path, old, old))
	return stateOf(t, path)
}

// assertNoLeftovers fails if a temporary or backup file is left in dir.
func assertNoLeftovers(t *testing.T, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		for _, e := range entries {
			assert.False(t, strings.Contains(e.Name(), ".agent-tmp-") || strings.Contains(e.Name(), ".agent-bak-"),
				"left behind: %s", filepath.Join(dir, e.Name()))
		}
	}
}

func permOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm()
}
