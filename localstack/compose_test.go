package localstack_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of docker-compose.yml this test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

// TestComposeFile checks, without Docker, what `docker compose up` relies
// on: a pinned LocalStack for AWS image, the auth token taken from the
// environment, the services the stack uses and no others, the port on
// loopback only, the hooks, template and Docker socket mounted from paths
// that exist, and hooks LocalStack can run.
func TestComposeFile(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "localstack")
	raw, err := os.ReadFile(filepath.Join(dir, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	ls, ok := cf.Services["localstack"]
	if !ok {
		t.Fatal("no localstack service")
	}

	repo, tag, _ := strings.Cut(ls.Image, ":")
	if repo != "localstack/localstack" {
		t.Errorf("image %q, want localstack/localstack:<tag>", ls.Image)
	}
	// A calendar version (2026.09.0) or a semantic one (4.14.0): never
	// latest, stable or a bare major that moves.
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(tag) {
		t.Errorf("image tag %q is not a pinned x.y.z version", tag)
	}

	if tok := ls.Environment["LOCALSTACK_AUTH_TOKEN"]; !strings.HasPrefix(tok, "${LOCALSTACK_AUTH_TOKEN:?") {
		t.Errorf("LOCALSTACK_AUTH_TOKEN = %q, want ${LOCALSTACK_AUTH_TOKEN:?...} (required, from the environment)", tok)
	}
	services := strings.Split(ls.Environment["SERVICES"], ",")
	slices.Sort(services)
	want := []string{"apigateway", "cloudformation", "dynamodb", "events", "iam", "lambda", "logs", "s3", "ses", "sqs", "sts"}
	if !slices.Equal(services, want) {
		t.Errorf("SERVICES = %v, want %v", services, want)
	}
	if !slices.Equal(ls.Ports, []string{"127.0.0.1:4566:4566"}) {
		t.Errorf("ports %v, want only 127.0.0.1:4566:4566", ls.Ports)
	}

	mounts := map[string]string{} // container path -> host path
	for _, v := range ls.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 {
			t.Errorf("volume %q is not host:container[:mode]", v)
			continue
		}
		host, ctr := parts[0], parts[1]
		mounts[ctr] = host
		if strings.HasPrefix(host, ".") {
			if _, err := os.Stat(filepath.Join(dir, host)); err != nil {
				t.Errorf("volume %q: host path: %v", v, err)
			}
		}
	}
	for ctr, host := range map[string]string{
		"/etc/localstack/init/ready.d":      "./init/ready.d",
		"/etc/localstack/template.yaml":     "../template.yaml",
		"/var/run/docker.sock":              "/var/run/docker.sock",
		"/etc/localstack/init/awsclient.py": "./init/awsclient.py",
	} {
		if mounts[ctr] != host {
			t.Errorf("%s is mounted from %q, want %q", ctr, mounts[ctr], host)
		}
	}
	if got := ls.Environment["TEMPLATE_PATH"]; mounts[got] != "../template.yaml" {
		t.Errorf("TEMPLATE_PATH %q is not where template.yaml is mounted", got)
	}
	// Every file the hooks use beside ready.d is mounted.
	for _, f := range []string{"pick_python.sh", "awsclient.py", "create_table.py", "verify_sender.py"} {
		if mounts["/etc/localstack/init/"+f] != "./init/"+f {
			t.Errorf("init/%s is not mounted at /etc/localstack/init/%s", f, f)
		}
	}
	if ls.Healthcheck == nil || !strings.Contains(strings.Join(ls.Healthcheck.Test, " "), "/_localstack/init/ready") {
		t.Error("no healthcheck on the ready hooks (make localstack-up waits on it)")
	}

	// LocalStack runs executable shell scripts with a shebang; a .py file in
	// ready.d (or below it) would run inside LocalStack's own interpreter.
	err = filepath.WalkDir(filepath.Join(dir, "init", "ready.d"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch filepath.Ext(p) {
		case ".sh":
			if info.Mode()&0o111 == 0 {
				t.Errorf("%s is not executable", p)
			}
			b, _ := os.ReadFile(p)
			if !strings.HasPrefix(string(b), "#!") {
				t.Errorf("%s has no shebang", p)
			}
		case ".py":
			t.Errorf("%s: Python in ready.d runs inside LocalStack; keep it beside ready.d", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The README names the pinned image and the token-free alternative.
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{ls.Image, "localstack/localstack:4.14.0"} {
		if !strings.Contains(string(readme), s) {
			t.Errorf("README.md does not mention %s", s)
		}
	}
	if !strings.Contains(string(raw), "4.14.0") {
		t.Error("docker-compose.yml does not name the token-free alternative tag in a comment")
	}
}
