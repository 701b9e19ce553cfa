package render_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kv-agent/agent/render"
)

func ExampleWriteAll() {
	dir, err := os.MkdirTemp("", "render-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	files := []render.File{
		{Path: filepath.Join(dir, "app", "db.env"), Content: []byte("DB_PASSWORD=\"x\"\n"), UID: -1, GID: -1},
		{Path: filepath.Join(dir, "app", "config.json"), Content: []byte("{}\n"), Mode: 0o640, UID: -1, GID: -1},
	}
	for range 2 {
		results, err := render.WriteAll(files)
		if err != nil {
			panic(err)
		}
		for _, r := range results {
			fmt.Println(filepath.Base(r.Path), r.Bytes, r.Changed)
		}
	}
	// Output:
	// db.env 16 true
	// config.json 3 true
	// db.env 16 false
	// config.json 3 false
}
