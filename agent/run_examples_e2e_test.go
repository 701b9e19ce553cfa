package agent_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kv-agent/agent/agent/envref"
	"go.yaml.in/yaml/v3"
)

// The quickstart seed serves the examples: vault contoso with these values.
const (
	exampleSeed   = "../examples/quickstart/seed.yaml"
	exampleDB     = "correct horse battery staple"
	exampleAPIKey = "new-key-0002"
)

// exampleValues are the quickstart seed's values, which no output may show.
var exampleValues = []string{exampleDB, exampleAPIKey, "p@ss:w0rd"}

// TestRunExampleDocker: the Dockerfile's build step builds a static agent,
// and its ENTRYPOINT with its ENV runs a command through agent run.
func TestRunExampleDocker(t *testing.T) {
	t.Parallel()
	df := parseDockerfile(t, "../examples/docker/Dockerfile")
	var build []string
	for _, in := range df {
		if in.op == "RUN" && strings.Contains(in.args, "go build") {
			build = shellFields(in.args)
		}
	}
	if len(build) == 0 || build[0] != "CGO_ENABLED=0" {
		t.Fatalf("no RUN CGO_ENABLED=0 go build ... in the Dockerfile: %q", build)
	}
	dir := t.TempDir()
	static := filepath.Join(dir, "agent")
	args := build[2:] // after CGO_ENABLED=0 go
	for i, a := range args {
		if a == "-o" {
			args[i+1] = static
		}
	}
	if testing.Short() {
		args = append([]string{"build", "-n"}, args[1:]...)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = ".." // COPY . . into WORKDIR: the repository root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's go build fails: %v\n%s", err, out)
	}
	if testing.Short() {
		static = agentBin
	} else {
		assertStatic(t, static)
	}

	var entrypoint, cmdline []string
	env := []string{"AGENT_EMULATOR=" + exampleSeed}
	for _, in := range df {
		switch in.op {
		case "ENTRYPOINT":
			entrypoint = execForm(t, in.args)
		case "CMD":
			cmdline = execForm(t, in.args)
		case "ENV":
			for _, f := range shellFields(in.args) {
				env = append(env, f)
			}
		case "COPY":
			if f := strings.Fields(in.args); len(f) == 3 && f[0] == "--from=build" && f[1] != "/out/agent" {
				t.Errorf("COPY %s: the build writes /out/agent", in.args)
			}
		}
	}
	if strings.Join(entrypoint, " ") != "/agent run --" || len(cmdline) == 0 {
		t.Fatalf(`ENTRYPOINT %q, CMD %q; want ["/agent", "run", "--"] and a command`, entrypoint, cmdline)
	}
	for i, kv := range env {
		if strings.HasPrefix(kv, "AGENT_MANIFEST=/etc/agent/agent.yaml") {
			env[i] = "AGENT_MANIFEST=../examples/docker/agent.yaml" // COPY examples/docker/agent.yaml /etc/agent/agent.yaml
		}
	}
	out := filepath.Join(dir, "env.json")
	argv := append(append([]string{static}, entrypoint[1:]...), childBin(t), "env", out)
	r := runExample(t, argv, env)
	if r.code != 0 {
		t.Fatalf("ENTRYPOINT + command: %s", r)
	}
	got := readEnv(t, out)
	if got["DB_PASSWORD"] != exampleDB || got["API_KEY"] != exampleAPIKey || got["DB_URL"] != "postgres://app:correct+horse+battery+staple@db.internal:5432/app" {
		t.Errorf("the command did not get DB_PASSWORD, DB_URL and API_KEY resolved")
	}
}

// TestRunExampleKubernetes: the pod's command runs the agent with a manifest
// from the ConfigMap that validates, references that parse, and the app
// after "--"; run against the emulator, the app gets its secrets.
func TestRunExampleKubernetes(t *testing.T) {
	t.Parallel()
	docs := yamlDocs(t, "../examples/kubernetes/exec-wrapper.yaml")
	var manifestText, cmName string
	var pod map[string]any
	for _, d := range docs {
		switch d["kind"] {
		case "ConfigMap":
			cmName = yamlDig(d, "metadata", "name").(string)
			manifestText, _ = yamlDig(d, "data", "agent.yaml").(string)
		case "Deployment":
			pod = yamlDig(d, "spec", "template", "spec").(map[string]any)
		}
	}
	if manifestText == "" || pod == nil {
		t.Fatal("want a ConfigMap with agent.yaml and a Deployment")
	}
	c := pod["containers"].([]any)[0].(map[string]any)
	command, args := yamlStrings(c["command"]), yamlStrings(c["args"])
	if len(command) < 3 || command[0] != "/agent" || command[1] != "run" || command[len(command)-1] != "--" || len(args) == 0 {
		t.Fatalf("command %q args %q: want [/agent run ... --] and the app's command", command, args)
	}
	manifestPath := argValue(command, "-m")
	mounts := map[string]string{}
	for _, m := range c["volumeMounts"].([]any) {
		mounts[m.(map[string]any)["name"].(string)] = m.(map[string]any)["mountPath"].(string)
	}
	for _, v := range pod["volumes"].([]any) {
		v := v.(map[string]any)
		if cm, ok := v["configMap"].(map[string]any); ok && cm["name"] == cmName {
			if want := mounts[v["name"].(string)] + "/agent.yaml"; manifestPath != want {
				t.Errorf("-m %s, but the ConfigMap is mounted as %s", manifestPath, want)
			}
		}
	}
	dir := t.TempDir()
	m := writeFile(t, dir, "agent.yaml", manifestText)
	checkOffline(t, m)
	var env []string
	for _, e := range c["env"].([]any) {
		e := e.(map[string]any)
		name, value := e["name"].(string), e["value"].(string)
		if envref.IsReference(value) {
			if _, err := envref.Parse(name, value); err != nil {
				t.Error(err)
			}
		}
		env = append(env, name+"="+value)
	}
	// Run it, with the pod's paths under dir.
	m = writeFile(t, dir, "agent.yaml", strings.ReplaceAll(manifestText, "/run/secrets/app/", dir+"/"))
	out := filepath.Join(dir, "env.json")
	argv := []string{agentBin}
	for _, a := range command[1:] {
		if a == manifestPath {
			a = m
		}
		argv = append(argv, a)
	}
	r := runExample(t, append(argv, childBin(t), "env", out), append(env, "AGENT_EMULATOR="+exampleSeed))
	if r.code != 0 {
		t.Fatalf("the pod's command: %s", r)
	}
	got := readEnv(t, out)
	if got["DB_PASSWORD"] != exampleDB || got["API_KEY"] != exampleAPIKey {
		t.Errorf("the app did not get DB_PASSWORD and API_KEY resolved")
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "smtp.json")), `"host":"smtp.contoso.com"`) {
		t.Errorf("smtp.json was not written")
	}
}

// TestRunExampleSystemd: ExecStart is a valid agent run invocation whose
// manifest validates; run against the emulator, the app gets its
// secrets and its file.
func TestRunExampleSystemd(t *testing.T) {
	t.Parallel()
	unit := readSystemdUnit(t, "../examples/vm-systemd/app.service")
	if unit["Service.Type"] != "exec" {
		t.Errorf("Type=%s, want exec: with agent run the app becomes the main process", unit["Service.Type"])
	}
	argv := shellFields(unit["Service.ExecStart"])
	sep := argIndex(argv, "--")
	if len(argv) < 4 || argv[0] != "/usr/local/bin/agent" || argv[1] != "run" || sep < 0 || sep == len(argv)-1 || argv[sep+1] != "/opt/app/bin/app" {
		t.Fatalf("ExecStart=%s: want /usr/local/bin/agent run ... -- /opt/app/bin/app", unit["Service.ExecStart"])
	}
	if mp := argValue(argv[:sep], "-m"); mp != "/etc/agent/app.yaml" {
		t.Fatalf("-m %q, want /etc/agent/app.yaml (examples/vm-systemd/app.yaml)", mp)
	}
	checkOffline(t, "../examples/vm-systemd/app.yaml")
	dir := t.TempDir()
	m := writeFile(t, dir, "agent.yaml", strings.ReplaceAll(readFile(t, "../examples/vm-systemd/app.yaml"), "/run/app/", dir+"/"))
	run := []string{agentBin}
	for _, a := range argv[1 : sep+1] {
		if a == "/etc/agent/app.yaml" {
			a = m
		}
		run = append(run, a)
	}
	out := filepath.Join(dir, "env.json")
	env := []string{"AGENT_EMULATOR=" + exampleSeed}
	if kv := unit["Service.Environment"]; kv != "" {
		env = append(env, kv)
	}
	r := runExample(t, append(run, childBin(t), "env", out), env)
	if r.code != 0 {
		t.Fatalf("ExecStart: %s", r)
	}
	if got := readEnv(t, out); got["DB_PASSWORD"] != exampleDB {
		t.Errorf("the app did not get DB_PASSWORD")
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "config.json")), `"apiKey":"new-key-0002"`) {
		t.Errorf("config.json does not hold the current api key")
	}
}

// runExample runs argv with PATH, HOME and env, and checks that its output
// shows no value.
func runExample(t *testing.T, argv, env []string) result {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	for _, v := range exampleValues {
		if strings.Contains(r.stdout+r.stderr, v) {
			t.Errorf("output shows a secret value:\n%s", r)
		}
	}
	return r
}

func checkOffline(t *testing.T, manifest string) {
	t.Helper()
	if r := runAgent(t, nil, nil, "check", "--offline", "-m", manifest); r.code != 0 {
		t.Errorf("agent check --offline -m %s: %s", manifest, r)
	}
}

func assertStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked", path)
		}
	}
}

type dockerInstruction struct{ op, args string }

// parseDockerfile returns the instructions, with continuation lines joined
// and comments dropped.
func parseDockerfile(t *testing.T, path string) []dockerInstruction {
	t.Helper()
	var out []dockerInstruction
	var cur string
	sc := bufio.NewScanner(strings.NewReader(readFile(t, path)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur == "") {
			continue
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur += s + " "
			continue
		}
		cur += line
		op, args, _ := strings.Cut(cur, " ")
		out = append(out, dockerInstruction{strings.ToUpper(op), strings.TrimSpace(args)})
		cur = ""
	}
	return out
}

func execForm(t *testing.T, s string) []string {
	t.Helper()
	var a []string
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		t.Fatalf("%s is not a JSON array (exec form): %v", s, err)
	}
	return a
}

// shellFields splits s into words as sh and systemd do for these simple
// lines: spaces separate, double quotes group (and are removed).
func shellFields(s string) []string {
	var out []string
	var b strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, inWord = !inQuote, true
		case (r == ' ' || r == '\t') && !inQuote:
			if inWord {
				out = append(out, b.String())
				b.Reset()
			}
			inWord = false
		default:
			b.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, b.String())
	}
	return out
}

// readUnit returns a systemd unit's settings as "Section.Key" → value.
func readSystemdUnit(t *testing.T, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	section := ""
	for _, line := range strings.Split(readFile(t, path), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: bad line %q", path, line)
			}
			out[section+"."+k] = v
		}
	}
	return out
}

func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(readFile(t, path)))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
}

func yamlDig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func yamlStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func argValue(args []string, name string) string {
	if i := argIndex(args, name); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

func argIndex(args []string, s string) int {
	for i, a := range args {
		if a == s {
			return i
		}
	}
	return -1
}
