package errlist

import (
	"errors"
	"io/fs"
	"testing"
)

func TestList(t *testing.T) {
	t.Parallel()
	var err error = List[*fs.PathError]{
		{Op: "open", Path: "a", Err: fs.ErrNotExist},
		{Op: "open", Path: "b", Err: fs.ErrPermission},
	}
	if got, want := err.Error(), "open a: file does not exist\nopen b: permission denied"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Error("errors.Is does not see the second entry")
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "a" {
		t.Errorf("errors.As found %v, want the first entry", pe)
	}
}
