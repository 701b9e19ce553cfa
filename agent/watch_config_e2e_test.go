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
// themselves are links that never change. The agent reloads, whether or
// not the old directory is gone yet.
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
	waitFor(t, 10*time.Second, "readiness", func() bool { code, _ := p.get("/readyz"); return code == 200 })

	// What the kubelet does: write the new version beside the old, point a
	// temporary link at it, rename that over ..data, remove the old one.
	swap := func(version, template string, removeOld string) {
		writeFile(t, vol, version+"/agent.yaml", configManifest(dir, template))
		if err := os.Symlink(version, filepath.Join(vol, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(vol, "..data_tmp"), filepath.Join(vol, "..data")); err != nil {
			t.Fatal(err)
		}
		if removeOld != "" {
			if err := os.RemoveAll(filepath.Join(vol, removeOld)); err != nil {
				t.Fatal(err)
			}
		}
	}
	swap("..2026_11_29_10_05_00.2", `template: 'password={{ secret "db" }}'`, "")
	waitFor(t, 10*time.Second, "db.txt re-rendered after the first swap", func() bool { return readOrEmpty(dbFile) == "password=db-OLD-value-1f2e" })
	swap("..2026_11_29_10_10_00.3", `template: 'pw={{ secret "db" }}'`, "..2026_11_29_10_05_00.2")
	waitFor(t, 10*time.Second, "db.txt re-rendered after the second swap", func() bool { return readOrEmpty(dbFile) == "pw=db-OLD-value-1f2e" })
	p.stop()
	assertNoValues(t, p.stderr.String())
}

// TestWatchDeployLink: the manifest is reached through a link further up
// its path (current -> releases/1), and a deploy re-points that link.
// The agent reloads.
func TestWatchDeployLink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	app := filepath.Join(dir, "app")
	writeFile(t, app, "releases/1/agent.yaml", configManifest(dir, `template: 'db={{ secret "db" }}'`))
	writeFile(t, app, "releases/2/agent.yaml", configManifest(dir, `template: 'release2={{ secret "db" }}'`))
	if err := os.Symlink("releases/1", filepath.Join(app, "current")); err != nil {
		t.Fatal(err)
	}
	p := startWatch(t, e, nil, "-m", filepath.Join(app, "current/agent.yaml"))
	dbFile := filepath.Join(dir, "out/db.txt")
	waitFor(t, 10*time.Second, "readiness", func() bool { code, _ := p.get("/readyz"); return code == 200 })
	if err := os.Symlink("releases/2", filepath.Join(app, "current.new")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(app, "current.new"), filepath.Join(app, "current")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "db.txt re-rendered from release 2", func() bool { return readOrEmpty(dbFile) == "release2=db-OLD-value-1f2e" })
	// The release now running is watched, not the one the link left.
	writeFile(t, app, "releases/2/agent.yaml", configManifest(dir, `template: 'release2-edited={{ secret "db" }}'`))
	waitFor(t, 10*time.Second, "db.txt re-rendered after an edit in release 2", func() bool { return readOrEmpty(dbFile) == "release2-edited=db-OLD-value-1f2e" })
	p.stop()
}

// TestWatchRestoresThroughALinkedDirectory: the manifest and two outputs
// live in a directory reached through a symbolic link (/etc/app ->
// /opt/app), one output named through the link, one through the target;
// each is restored at once when deleted.
func TestWatchRestoresThroughALinkedDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	real := filepath.Join(dir, "real")
	link := filepath.Join(dir, "link")
	writeFile(t, real, "agent.yaml", `version: 1
vaults: {main: {url: https://contoso.vault.azure.net}}
files:
  - {path: db.txt, template: 'db={{ secret "db" }}'}
  - {path: `+filepath.Join(real, "api.txt")+`, template: 'api={{ secret "api" }}'}
secrets: {db: main/db-password, api: main/api-key}
watch: {interval: 1h}
`)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	p := startWatch(t, e, nil, "-m", filepath.Join(link, "agent.yaml"))
	waitFor(t, 10*time.Second, "readiness", func() bool { code, _ := p.get("/readyz"); return code == 200 })
	for file, want := range map[string]string{filepath.Join(link, "db.txt"): "db=db-OLD-value-1f2e", filepath.Join(real, "api.txt"): "api=api-OLD-value-3d4c"} {
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, file+" restored", func() bool { return readOrEmpty(file) == want })
	}
	p.stop()
}

// TestWatchSeesTemplateEditsDuringAReload: a manifest edited to use a
// template file is reloaded, and the template file is edited while the
// reload is still fetching; the edit is applied too.
func TestWatchSeesTemplateEditsDuringAReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("latency: 1500ms\n", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", configManifest(dir, `template: 'db={{ secret "db" }}'`))
	p := startWatch(t, e, []string{"AGENT_IMDS_PROBE_TIMEOUT=10s"}, "-m", mf)
	dbFile := filepath.Join(dir, "out/db.txt")
	waitFor(t, 20*time.Second, "readiness", func() bool { code, _ := p.get("/readyz"); return code == 200 })

	writeFile(t, dir, "db.tmpl", `first={{ secret "db" }}`)
	writeFile(t, dir, "agent.yaml", configManifest(dir, `templateFile: db.tmpl`))
	// The reload starts 300 ms after the edit and fetches for at least
	// 1.5 s; the template is edited in between.
	time.Sleep(time.Second)
	writeFile(t, dir, "db.tmpl", `second={{ secret "db" }}`)
	waitFor(t, 20*time.Second, "db.txt from the edited template", func() bool { return readOrEmpty(dbFile) == "second=db-OLD-value-1f2e" })
	p.stop()
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

// TestWatchFailedReloadRunsOnce: an edit that names a new template file
// (in a directory not watched yet) and a secret the vault does not have
// is tried once: one failure logged and counted, one fetch.
func TestWatchFailedReloadRunsOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	mf := writeFile(t, dir, "agent.yaml", configManifest(dir, `template: 'db={{ secret "db" }}'`))
	p := startWatch(t, e, nil, "-m", mf)
	waitFor(t, 10*time.Second, "readiness", func() bool { code, _ := p.get("/readyz"); return code == 200 })
	writeFile(t, dir, "templates/db.tmpl", `db={{ secret "db" }} {{ secret "gone" }}`)
	before := e.Stats().Vaults["contoso"]

	edited := strings.Replace(configManifest(dir, `templateFile: templates/db.tmpl`), "  db: main/db-password\n", "  db: main/db-password\n  gone: main/no-such-secret\n", 1)
	writeFile(t, dir, "agent.yaml", edited)
	waitFor(t, 10*time.Second, "the reload to fail", func() bool { return p.metric(`agent_reloads_total{result="invalid"}`) >= 1 })
	time.Sleep(time.Second) // room for a second try, which must not come
	if n := p.metric(`agent_reloads_total{result="invalid"}`); n != 1 {
		t.Errorf("%v failed reloads counted for one edit", n)
	}
	if n := strings.Count(p.stderr.String(), "manifest not reloaded"); n != 1 {
		t.Errorf("the failure was logged %d times:\n%s", n, p.stderr)
	}
	// The reload fetches both secrets once (db and the missing one).
	if n := e.Stats().Vaults["contoso"] - before; n != 2 {
		t.Errorf("%d Key Vault requests for one failed reload, want 2", n)
	}
	p.stop()
}
