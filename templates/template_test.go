package templates

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
	}{
		{"unclosed action on line 3", "a\nb\n{{ secret \"x\" ", "files[2].template:3:"},
		{"unknown function", `{{ env "HOME" }}`, `function "env" not defined`},
		{"unknown function required", `{{ required "x" }}`, `function "required" not defined`},
		{"cert not registered", `{{ cert "tls" }}`, `function "cert" not defined`},
		{"unexpected end", "line1\n{{ if true }}", "files[2].template:2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("files[2].template", tt.text)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "parse template:")
		})
	}
}

func TestExecuteErrorIsExecError(t *testing.T) {
	t.Parallel()
	tmpl, err := Parse("env.DB", `{{ secret "missing" }}`)
	require.NoError(t, err)
	_, err = tmpl.Execute(nil)
	var ee *ExecError
	require.True(t, errors.As(err, &ee))
	assert.Equal(t, "env.DB", ee.Template)
	assert.Nil(t, errors.Unwrap(err), "the unredacted original must not be reachable")
	assert.Contains(t, err.Error(), `secret "missing" is not defined`)
	assert.Equal(t, "env.DB", tmpl.Name())
}

func TestExecuteConcurrent(t *testing.T) {
	t.Parallel()
	tmpl, err := Parse("t", `{{ secret "n" }}`)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprint("value-", i)
			out, err := tmpl.Execute(map[string]Secret{"n": {Value: want}})
			if err == nil && string(out) != want {
				err = fmt.Errorf("got %q, want %q", out, want)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

func ExampleTemplate_Execute() {
	tmpl, err := Parse("files[0].template", `{"password": {{ (secret "db" | fromJSON).password | toJSON }}}`)
	if err != nil {
		panic(err)
	}
	fmt.Println(tmpl.Secrets())
	out, err := tmpl.Execute(map[string]Secret{"db": {Value: `{"password": "p\"w"}`}})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output:
	// [db]
	// {"password": "p\"w"}
}
