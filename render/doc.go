// Package render puts rendered outputs in place on disk: all files of one run
// or none of them, each replaced atomically, never truncated in place.
//
// It only writes bytes; executing templates is the caller's job (package
// templates). It never puts file contents in errors.
//
// # How a run writes
//
// [WriteAll] works in two phases.
//
// Phase 1, for each file: create missing parent directories (DirMode, owned
// by UID/GID when set); compare with the existing file, which is left alone
// when its bytes, permission bits and (when UID/GID are set) owner already
// match; otherwise create a temporary file ".<base>.agent-tmp-*" in the
// target's directory (mode 0600 from the start), write it, fchown, fchmod,
// fsync and close it. Any failure removes every temporary file and every
// directory this run created (when empty) and returns a [*WriteError]; no
// target has been touched.
//
// Phase 2: every existing target that is renamed before another one gets a
// hard-link backup ".<base>.agent-bak-*" in its directory; then each
// temporary file is renamed over its target. If a rename fails, the targets
// already replaced are restored from their backups (or removed when they did
// not exist), so the run stays all or nothing. Backups are removed in every
// case (except one that could not be restored, which the error names), then
// each affected directory is fsynced once.
//
// A target that is a symbolic link is replaced by a regular file; the file it
// pointed to is not modified. A symbolic link in the directory part of the
// path is followed. A target that is a directory or another non-regular file
// is an error.
package render
