package render

import (
	"os/user"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookupOwner(t *testing.T) {
	t.Parallel()
	nobodyUID := -2
	if u, err := user.Lookup("nobody"); err == nil {
		nobodyUID, _ = strconv.Atoi(u.Uid)
	}
	tests := []struct {
		name, owner, group string
		uid, gid           int
		err                string
	}{
		{"both empty", "", "", -1, -1, ""},
		{"root names", "root", "root", 0, 0, ""},
		{"user only", "root", "", 0, -1, ""},
		{"group only", "", "root", -1, 0, ""},
		{"nobody", "nobody", "", nobodyUID, -1, ""},
		{"numeric ids", "1234", "5678", 1234, 5678, ""},
		{"numeric id without a user", "4000000000", "0", 4000000000, 0, ""},
		{"unknown user", "no-such-user-xyz", "", -1, -1, `unknown user "no-such-user-xyz"`},
		{"unknown group", "root", "no-such-group-xyz", -1, -1, `unknown group "no-such-group-xyz"`},
		{"id out of range", "4294967295", "", -1, -1, `invalid user id "4294967295"`},
		{"negative is a name", "-1", "", -1, -1, `unknown user "-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.uid == -2 {
				t.Skip("no user nobody on this system")
			}
			uid, gid, err := LookupOwner(tt.owner, tt.group)
			if tt.err != "" {
				require.Error(t, err)
				assert.Equal(t, tt.err, err.Error())
				assert.Equal(t, -1, uid)
				assert.Equal(t, -1, gid)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.uid, uid)
			assert.Equal(t, tt.gid, gid)
		})
	}
}
