package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// configManifest is a manifest whose one output, out/db.txt under dir,
// uses tmpl as its template line (template: or templateFile:).
func configManifest(dir, tmpl string) string {
	return `version: 1
vaults:
  main: {url: https://contoso.vault.azure.net}
secrets:
  db: main/db-password
files:
  - path: ` + filepath.Join(dir, "out/db.txt") + `
    ` + tmpl + `
watch: {interval: 1h}
`
}

// TestWatchConfigMapSwap: a manifest mounted from a Kubernetes ConfigMap
// is updated by swapping the "..data" link to a new directory; the files
// themselves are links that never change. The agent reloads.
func TestWatchConfigMapSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	vol := filepath.Join(dir, "config")
	writeFile(t, vol, "..2026_11_29_10_00_00.1/agent.yaml", configManifest(dir, `template: 'db={{ secret "db" }}'`))
	for _, l := range [][2]string{{"..2026_11_29_10_00_00.1", "..data"}, {"..data/agent.yaml", "agent.yaml"}} {
		if err := os.Symlink(l[0], filepath.Join(vol, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	p := startWatch(t, e, nil, "-m", filepath.Join(vol, "agent.yaml"))
	dbFile := filepath.Join(dir, "out/db.txt")
	waitFor(t, 10*time.Second, "the first render", func() bool { return readOrEmpty(dbFile) == "db=db-OLD-value-1f2e" })
	waitFor(t, 10*time.Second, "readiness", func() bool { code, _ := p.get("/readyz"); return code == 200 })

	// What the kubelet does: write the new version beside the old, point a
	// temporary link at it, rename that over ..data, remove the old one.
	writeFile(t, vol, "..2026_11_29_10_05_00.2/agent.yaml", configManifest(dir, `template: 'password={{ secret "db" }}'`))
	if err := os.Symlink("..2026_11_29_10_05_00.2", filepath.Join(vol, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(vol, "..data_tmp"), filepath.Join(vol, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(vol, "..2026_11_29_10_00_00.1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "db.txt re-rendered with the new template", func() bool { return readOrEmpty(dbFile) == "password=db-OLD-value-1f2e" })
	p.stop()
	assertNoValues(t, p.stderr.String())
}

// TestWatchIgnoresOtherFilesBesideTheManifest: files written next to the
// manifest that are not part of the configuration (a log the agent
// writes there, an app's files) neither reload the manifest nor make the
// agent ask Key Vault anything.
func TestWatchIgnoresOtherFilesBesideTheManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", configManifest(dir, `template: 'db={{ secret "db" }}'`))
	p := startWatch(t, e, nil, "-m", mf, "--log-level", "debug")
	waitFor(t, 10*time.Second, "readiness", func() bool { code, _ := p.get("/readyz"); return code == 200 })
	before := e.Stats().Vaults["contoso"]

	for i := range 5 {
		writeFile(t, dir, "agent.log", strings.Repeat("a line\n", i+1))
		time.Sleep(100 * time.Millisecond)
	}
	// Long enough for the 300 ms settling of a reload it should not do;
	// then a SIGHUP, whose reload and check are logged after anything the
	// writes above caused.
	time.Sleep(time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the SIGHUP's check", func() bool { return p.metric("agent_checks_total") == 1 })
	if n := strings.Count(p.stderr.String(), `msg="manifest unchanged"`); n != 1 {
		t.Errorf("the manifest was read %d times; only SIGHUP should have read it:\n%s", n, p.stderr)
	}
	// The SIGHUP's check asks Key Vault once (one reference); the writes
	// must add nothing.
	if got := e.Stats().Vaults["contoso"] - before; got != 1 {
		t.Errorf("%d Key Vault requests after start-up; want the SIGHUP check's 1", got)
	}
	p.stop()
}

// TestWatchWaitsForANewTemplateFile: a manifest edited to name a template
// file in a directory that does not exist yet fails to reload; once the
// directory and the file appear, the agent reloads on its own.
func TestWatchWaitsForANewTemplateFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", configManifest(dir, `template: 'db={{ secret "db" }}'`))
	p := startWatch(t, e, nil, "-m", mf)
	dbFile := filepath.Join(dir, "out/db.txt")
	waitFor(t, 10*time.Second, "readiness", func() bool { code, _ := p.get("/readyz"); return code == 200 })

	writeFile(t, dir, "agent.yaml", configManifest(dir, `templateFile: templates/db.tmpl`))
	waitFor(t, 10*time.Second, "the reload to be refused", func() bool {
		return strings.Contains(p.stderr.String(), "manifest not reloaded; the previous one keeps running")
	})
	if !strings.Contains(p.stderr.String(), "templates/db.tmpl") {
		t.Errorf("the log does not name the missing template file:\n%s", p.stderr)
	}
	writeFile(t, dir, "templates/db.tmpl", `from-file={{ secret "db" }}`)
	waitFor(t, 10*time.Second, "db.txt rendered from the new template file", func() bool { return readOrEmpty(dbFile) == "from-file=db-OLD-value-1f2e" })

	// Edits to it are seen too.
	writeFile(t, dir, "templates/db.tmpl", `edited={{ secret "db" }}`)
	waitFor(t, 10*time.Second, "db.txt rendered from the edited template file", func() bool { return readOrEmpty(dbFile) == "edited=db-OLD-value-1f2e" })
	p.stop()
	assertNoValues(t, p.stderr.String())
}
