package agent_test

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// watchArgs checks that args are `watch … --listen ADDR …` and returns
// them without "watch" and the --listen pair, which startWatch supplies.
func watchArgs(t *testing.T, args []string) []string {
	t.Helper()
	if len(args) == 0 || args[0] != "watch" {
		t.Fatalf("the example does not run agent watch: %q", args)
	}
	i := slices.Index(args, "--listen")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("the example has no --listen: %q", args)
	}
	return slices.Concat(args[1:i], args[i+2:])
}

// replaceArg replaces the value after flag.
func replaceArg(args []string, flag, value string) []string {
	out := slices.Clone(args)
	if i := slices.Index(out, flag); i >= 0 && i+1 < len(out) {
		out[i+1] = value
	}
	return out
}

func TestExampleSystemdUnit(t *testing.T) {
	t.Parallel()
	unit := readFile(t, "../examples/vm-systemd/agent-watch.service")
	keys := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
		}
	}
	for k, want := range map[string]string{"Type": "notify", "ExecReload": "/bin/kill -HUP $MAINPID", "Restart": "on-failure"} {
		if keys[k] != want {
			t.Errorf("%s=%q, want %q", k, keys[k], want)
		}
	}
	watchdog, err := time.ParseDuration(keys["WatchdogSec"])
	if err != nil {
		t.Fatalf("WatchdogSec: %v", err)
	}
	exec := strings.Fields(keys["ExecStart"])
	if exec[0] != "/usr/local/bin/agent" {
		t.Fatalf("ExecStart runs %s", exec[0])
	}
	args := watchArgs(t, exec[1:])

	// Run ExecStart as systemd would, with the example manifest writing
	// under a temporary directory instead of /etc/app.
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	manifest := strings.ReplaceAll(readFile(t, "../examples/vm-systemd/agent.yaml"), "/etc/app/", dir+"/app/")
	args = replaceArg(args, "-m", writeFile(t, dir, "agent.yaml", manifest))
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A short watchdog so that pings arrive during the test; the unit's
	// own is checked to be a sane value.
	if watchdog < 10*time.Second {
		t.Errorf("WatchdogSec=%s is short for a daemon whose checks may take a while", watchdog)
	}
	p := startWatch(t, e, []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=400000"}, args...)
	var got []string
	buf := make([]byte, 512)
	for len(got) < 3 {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			t.Fatalf("after %q: %v\n%s", got, err, p.stderr)
		}
		got = append(got, string(buf[:n]))
		if string(buf[:n]) == "READY=1" && readOrEmpty(filepath.Join(dir, "app/db.env")) != "DB_PASSWORD=db-OLD-value-1f2e" {
			t.Error("READY=1 before the first render completed")
		}
	}
	if !slices.Contains(got, "READY=1") || !slices.Contains(got, "WATCHDOG=1") {
		t.Errorf("systemd got %q, want READY=1 and WATCHDOG=1", got)
	}
	p.stop()
}

// k8sObject is the part of a Kubernetes object the test reads.
type k8sObject struct {
	Kind string            `yaml:"kind"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Template struct {
			Spec struct {
				InitContainers []k8sContainer `yaml:"initContainers"`
				Containers     []k8sContainer `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sContainer struct {
	Name          string   `yaml:"name"`
	Args          []string `yaml:"args"`
	RestartPolicy string   `yaml:"restartPolicy"`
	Startup       k8sProbe `yaml:"startupProbe"`
	Liveness      k8sProbe `yaml:"livenessProbe"`
	Readiness     k8sProbe `yaml:"readinessProbe"`
}

type k8sProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port int    `yaml:"port"`
	} `yaml:"httpGet"`
}

func TestExampleKubernetesSidecar(t *testing.T) {
	t.Parallel()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(readFile(t, "../examples/kubernetes/sidecar.yaml"))))
	var manifest string
	var agent *k8sContainer
	for {
		var o k8sObject
		if err := dec.Decode(&o); err != nil {
			break
		}
		switch o.Kind {
		case "ConfigMap":
			manifest = o.Data["agent.yaml"]
		case "Deployment":
			for i, c := range o.Spec.Template.Spec.InitContainers {
				if c.Name == "agent" {
					agent = &o.Spec.Template.Spec.InitContainers[i]
				}
			}
		}
	}
	if manifest == "" || agent == nil {
		t.Fatal("the example lacks the ConfigMap's agent.yaml or the agent sidecar")
	}
	if agent.RestartPolicy != "Always" {
		t.Errorf("the sidecar's restartPolicy is %q; a native sidecar needs Always", agent.RestartPolicy)
	}
	listen := agent.Args[slices.Index(agent.Args, "--listen")+1]
	for _, c := range []struct {
		name, path string
		probe      k8sProbe
	}{{"startupProbe", "/readyz", agent.Startup}, {"readinessProbe", "/readyz", agent.Readiness}, {"livenessProbe", "/healthz", agent.Liveness}} {
		if c.probe.HTTPGet.Path != c.path || ":"+strconv.Itoa(c.probe.HTTPGet.Port) != listen {
			t.Errorf("%s: %+v, want GET %s on %s", c.name, c.probe, c.path, listen)
		}
	}
	dir := t.TempDir()
	e := startEmulator(t, watchSeed("", ""), dir)
	manifest = strings.ReplaceAll(manifest, "/run/secrets/app/", dir+"/secrets/")
	args := replaceArg(watchArgs(t, agent.Args), "-m", writeFile(t, dir, "agent.yaml", manifest))
	p := startWatch(t, e, nil, args...)
	waitFor(t, 10*time.Second, "the sidecar to be ready", func() bool { code, _ := p.get("/readyz"); return code == 200 })
	if got := readFile(t, filepath.Join(dir, "secrets/config.json")); got != `{"apiKey": "api-OLD-value-3d4c"}` {
		t.Errorf("config.json = %q", got)
	}
	if info, err := os.Stat(filepath.Join(dir, "secrets/db-password")); err != nil || info.Mode().Perm() != 0o440 {
		t.Errorf("db-password: %v %v", info, err)
	}
	p.stop()
	assertNoValues(t, p.stderr.String())
}
