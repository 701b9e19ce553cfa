package agent_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestQuickstartExample runs the README's first command: render the
// quickstart against an in-process emulator started from its seed.
func TestQuickstartExample(t *testing.T) {
	t.Parallel()
	dir := copyExample(t, "quickstart")
	r := runAgent(t, nil, nil, "render", "-m", filepath.Join(dir, "agent.yaml"), "--emulator", filepath.Join(dir, "seed.yaml"))
	expectCode(t, r, 0)
	cfg := readFile(t, filepath.Join(dir, "out/config.json"))
	if !strings.Contains(cfg, `"password": "correct horse battery staple"`) || !strings.Contains(cfg, `"apiKey": "new-key-0002"`) {
		t.Errorf("config.json:\n%s", cfg)
	}
	env := readFile(t, filepath.Join(dir, "out/app.env"))
	if !strings.Contains(env, `DB_PASSWORD="correct horse battery staple"`) {
		t.Errorf("app.env:\n%s", env)
	}
	ini := readFile(t, filepath.Join(dir, "out/smtp.ini"))
	if !strings.Contains(ini, "password = p@ss:w0rd\n") {
		t.Errorf("smtp.ini:\n%q", ini)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "out/smtp.ini")); fi.Mode().Perm() != 0o640 {
		t.Errorf("smtp.ini mode %v", fi.Mode().Perm())
	}
	r = runAgent(t, nil, nil, "check", "-m", filepath.Join(dir, "agent.yaml"), "--emulator", filepath.Join(dir, "seed.yaml"))
	expectCode(t, r, 0)
	for _, want := range []string{"NAME", "db_password", "managed identity (IMDS)", "ok"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "correct horse") {
		t.Errorf("check printed a value")
	}
}

// TestTLSExample renders examples/tls and loads the pair as nginx would.
func TestTLSExample(t *testing.T) {
	t.Parallel()
	dir := copyExample(t, "tls")
	r := runAgent(t, nil, nil, "render", "-m", filepath.Join(dir, "agent.yaml"), "--emulator", filepath.Join(dir, "seed.yaml"))
	expectCode(t, r, 0)
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "out/fullchain.pem"), filepath.Join(dir, "out/privkey.pem")); err != nil {
		t.Errorf("fullchain.pem + privkey.pem: %v", err)
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "out/cert-info.txt")), "subject=CN=www.contoso.com") {
		t.Errorf("cert-info.txt wrong")
	}
}

// copyExample copies examples/NAME into a temporary directory.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "examples", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if rel == "out" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestVMSystemdRenderExample: the oneshot unit runs before app.service and
// its ExecStart, run against the emulator with the example manifest
// (paths moved under a temporary directory), renders the files.
func TestVMSystemdRenderExample(t *testing.T) {
	t.Parallel()
	unit := readFile(t, "../examples/vm-systemd/agent-render.service")
	keys := unitKeys(unit)
	for k, want := range map[string]string{"Type": "oneshot", "RemainAfterExit": "yes", "Before": "app.service"} {
		if keys[k] != want {
			t.Errorf("%s=%q, want %q", k, keys[k], want)
		}
	}
	argv := strings.Fields(keys["ExecStart"])
	if len(argv) < 4 || argv[0] != "/usr/local/bin/agent" || argv[1] != "render" || argv[2] != "-m" {
		t.Fatalf("ExecStart=%q is not 'agent render -m …'", keys["ExecStart"])
	}
	if argv[3] != "/etc/agent/render.yaml" {
		t.Fatalf("ExecStart names %s, want the example's /etc/agent/render.yaml", argv[3])
	}
	dir := t.TempDir()
	manifest := strings.ReplaceAll(readFile(t, "../examples/vm-systemd/render.yaml"), "/etc/app/", dir+"/app/")
	m := writeFile(t, dir, "render.yaml", manifest)
	seed := writeFile(t, dir, "seed.yaml", readFile(t, "../examples/quickstart/seed.yaml"))
	r := runAgent(t, nil, nil, append([]string{"render", "-m", m, "--emulator", seed}, argv[4:]...)...)
	expectCode(t, r, 0)
	if got := readFile(t, filepath.Join(dir, "app/app.env")); !strings.Contains(got, `DB_PASSWORD="correct horse battery staple"`) {
		t.Errorf("app.env = %q", got)
	}
}

// TestCloudInitExample: the manifest cloud-init writes validates, and
// runcmd renders before it starts the app.
func TestCloudInitExample(t *testing.T) {
	t.Parallel()
	var doc struct {
		WriteFiles []struct {
			Path    string `yaml:"path"`
			Content string `yaml:"content"`
		} `yaml:"write_files"`
		RunCmd [][]string `yaml:"runcmd"`
	}
	raw := readFile(t, "../examples/cloud-init/user-data.yaml")
	if !strings.HasPrefix(raw, "#cloud-config\n") {
		t.Errorf("user-data does not start with #cloud-config")
	}
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.WriteFiles) != 1 || doc.WriteFiles[0].Path != "/etc/agent/agent.yaml" {
		t.Fatalf("write_files = %+v", doc.WriteFiles)
	}
	dir := t.TempDir()
	expectCode(t, runAgent(t, nil, nil, "check", "--offline", "-m", writeFile(t, dir, "agent.yaml", doc.WriteFiles[0].Content)), 0)
	if len(doc.RunCmd) < 2 || strings.Join(doc.RunCmd[0], " ") != "/usr/local/bin/agent render -m /etc/agent/agent.yaml" ||
		doc.RunCmd[1][0] != "systemctl" {
		t.Errorf("runcmd = %q: want agent render, then the app", doc.RunCmd)
	}
}

// TestKubernetesInitContainerExample: the init container renders into the
// volume the app mounts, with a manifest from the ConfigMap that validates.
func TestKubernetesInitContainerExample(t *testing.T) {
	t.Parallel()
	type mount struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	}
	type container struct {
		Name         string   `yaml:"name"`
		Args         []string `yaml:"args"`
		VolumeMounts []mount  `yaml:"volumeMounts"`
	}
	var cm struct {
		Kind string            `yaml:"kind"`
		Data map[string]string `yaml:"data"`
	}
	var pod struct {
		Kind string `yaml:"kind"`
		Spec struct {
			InitContainers []container `yaml:"initContainers"`
			Containers     []container `yaml:"containers"`
		} `yaml:"spec"`
	}
	dec := yaml.NewDecoder(strings.NewReader(readFile(t, "../examples/kubernetes/init-container.yaml")))
	if err := dec.Decode(&cm); err != nil || cm.Kind != "ConfigMap" {
		t.Fatalf("first document: %v %q", err, cm.Kind)
	}
	if err := dec.Decode(&pod); err != nil || pod.Kind != "Pod" {
		t.Fatalf("second document: %v %q", err, pod.Kind)
	}
	dir := t.TempDir()
	expectCode(t, runAgent(t, nil, nil, "check", "--offline", "-m", writeFile(t, dir, "agent.yaml", cm.Data["agent.yaml"])), 0)
	init := pod.Spec.InitContainers[0]
	if len(init.Args) < 3 || init.Args[0] != "render" || init.Args[1] != "-m" || init.Args[2] != "/etc/agent/agent.yaml" {
		t.Errorf("init container args %q", init.Args)
	}
	app := pod.Spec.Containers[0]
	if len(app.VolumeMounts) != 1 || app.VolumeMounts[0].Name != "secrets" || !app.VolumeMounts[0].ReadOnly ||
		!strings.Contains(cm.Data["agent.yaml"], "path: "+app.VolumeMounts[0].MountPath+"/") {
		t.Errorf("the app does not mount read-only the volume the agent renders into: %+v", app.VolumeMounts)
	}
}

// unitKeys reads KEY=VALUE lines of a systemd unit (last one wins).
func unitKeys(unit string) map[string]string {
	keys := map[string]string{}
	for _, line := range strings.Split(unit, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
		}
	}
	return keys
}
