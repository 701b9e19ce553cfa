package agent_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDeadlineWritesNothing: the whole run is bounded by --timeout; when it
// passes, no file is written and the exit code is 75.
func TestDeadlineWritesNothing(t *testing.T) {
	t.Parallel()
	dir, e := startContoso(t, "latency: 700ms\n")
	m := writeFile(t, dir, "agent.yaml", contosoManifest)
	r := runAgent(t, e, nil, "render", "-m", m, "--timeout", "1s")
	expectCode(t, r, 75)
	if !strings.Contains(r.stderr, "deadline") {
		t.Errorf("stderr does not mention the deadline:\n%s", r.stderr)
	}
	noFilesBut(t, dir, "agent.yaml", "seed.yaml", "sp-cert.pem", "sp-key.pem", "sp-secret")
}

// TestOneBadTemplateWritesNothing: ten files, one of which fails at
// execution time: nothing is written, the existing files keep their
// content, and the error names the file and the manifest line.
func TestOneBadTemplateWritesNothing(t *testing.T) {
	t.Parallel()
	dir, e := startContoso(t, "")
	var b strings.Builder
	b.WriteString("version: 1\nvaults:\n  main: {url: https://contoso.vault.azure.net}\nsecrets:\n  db: main/db-password\nfiles:\n")
	for i := 0; i < 10; i++ {
		tmpl := `'v{{ secret "db" }}'`
		if i == 6 {
			tmpl = `'{{ (secret "db" | fromJSON).password }}'` // the value is not JSON
		}
		fmt.Fprintf(&b, "  - path: out/f%d.txt\n    template: %s\n", i, tmpl)
	}
	m := writeFile(t, dir, "agent.yaml", b.String())
	for i := 0; i < 10; i++ {
		writeFile(t, dir, fmt.Sprintf("out/f%d.txt", i), "previous")
	}
	r := runAgent(t, e, []string{"AGENT_LOG_LEVEL=debug"}, "render", "-m", m)
	expectCode(t, r, 65)
	for _, want := range []string{"agent.yaml:20:", "files[6]", "out/f6.txt", "no file was written"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for i := 0; i < 10; i++ {
		if got := readFile(t, filepath.Join(dir, fmt.Sprintf("out/f%d.txt", i))); got != "previous" {
			t.Errorf("f%d.txt = %q, want it untouched", i, got)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "out"))
	if len(entries) != 10 {
		t.Errorf("out/ holds %d entries, want the 10 old files and no temp", len(entries))
	}
	assertNoLeak(t, r.stdout+r.stderr)
}

// TestUnwritablePath: an output that cannot be written exits 73 and no
// other file changes.
func TestUnwritablePath(t *testing.T) {
	t.Parallel()
	dir, e := startContoso(t, "")
	writeFile(t, dir, "blocker", "a regular file where a directory should be")
	m := writeFile(t, dir, "agent.yaml", `
version: 1
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  db: main/db-password
files:
  - path: out/ok.txt
    template: '{{ secret "db" }}'
  - path: blocker/sub/x.txt
    template: '{{ secret "db" }}'
`)
	r := runAgent(t, e, nil, "render", "-m", m)
	expectCode(t, r, 73)
	if !strings.Contains(r.stderr, "blocker/sub") {
		t.Errorf("stderr does not name the path:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "ok.txt")); !os.IsNotExist(err) {
		t.Errorf("out/ok.txt was written although another file failed")
	}
}

// TestUnchangedNotRewritten: a second render with the same secrets reports
// every file unchanged and keeps the inode.
func TestUnchangedNotRewritten(t *testing.T) {
	t.Parallel()
	dir, e := startContoso(t, "")
	m := writeFile(t, dir, "agent.yaml", contosoManifest)
	expectCode(t, runAgent(t, e, nil, "render", "-m", m), 0)
	before, err := os.Stat(filepath.Join(dir, "out/db.txt"))
	if err != nil {
		t.Fatal(err)
	}
	r := runAgent(t, e, nil, "render", "-m", m)
	expectCode(t, r, 0)
	if strings.Count(r.stderr, "unchanged") != 2 {
		t.Errorf("want two unchanged lines:\n%s", r.stderr)
	}
	after, _ := os.Stat(filepath.Join(dir, "out/db.txt"))
	if !os.SameFile(before, after) {
		t.Errorf("unchanged file was replaced")
	}
}

// TestCheckRendersTemplates: agent check fails, as render would, on a
// template that fails with the real values, and writes nothing.
func TestCheckRendersTemplates(t *testing.T) {
	t.Parallel()
	dir, e := startContoso(t, "")
	m := writeFile(t, dir, "agent.yaml", `
version: 1
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  db: main/db-password
files:
  - path: out/x.txt
    template: '{{ (secret "db" | fromJSON).password }}'
`)
	r := runAgent(t, e, nil, "check", "-m", m)
	expectCode(t, r, 65)
	if !strings.Contains(r.stderr, "files[0]") || !strings.Contains(r.stderr, "not valid JSON") {
		t.Errorf("check does not report the template failure:\n%s", r.stderr)
	}
	if fileExists(filepath.Join(dir, "out")) {
		t.Errorf("check wrote output")
	}
	assertNoLeak(t, r.stdout+r.stderr)
}

// TestInterruptedRender: SIGINT while secrets are being fetched exits 130
// and writes nothing.
func TestInterruptedRender(t *testing.T) {
	t.Parallel()
	dir, e := startContoso(t, "latency: 3s\n")
	m := writeFile(t, dir, "agent.yaml", contosoManifest)
	cmd := exec.Command(agentBin, "render", "-m", m)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, e.Env()...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // let it reach Key Vault; the emulator holds each request 3 s
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say interrupted:\n%s", stderr.String())
	}
	if fileExists(filepath.Join(dir, "out")) {
		t.Errorf("an interrupted render wrote files")
	}
}
