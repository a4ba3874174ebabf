package testenv

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables naming emulators that are already running. When one
// is set, tests use it instead of starting their own (one-off runs against
// an emulator started by hand).
const (
	EnvMoto     = "MOTO_ENDPOINT"     // moto: DynamoDB and SES v1
	EnvSESLocal = "SESLOCAL_ENDPOINT" // aws-ses-v2-local
)

// startTimeout bounds an emulator's start; moto imports for a few seconds,
// longer when the machine is busy running other test binaries.
const startTimeout = 60 * time.Second

// An emulator is one child process per test binary, started on first use.
type emulator struct {
	name  string
	env   string
	start func() (*child, error)

	once sync.Once
	c    *child
	err  error
}

var (
	moto = &emulator{name: "moto", env: EnvMoto, start: startMoto}
	// sesLocal serves SES through aws-ses-v2-local.
	sesLocal = &emulator{name: "aws-ses-v2-local", env: EnvSESLocal, start: startSESLocal}
)

// Moto returns the endpoint of a moto server (DynamoDB and SES v1) that only
// this test binary uses: MOTO_ENDPOINT if set, otherwise a moto started from
// the repository's venv (.venv/bin/python) on a free loopback port the first
// time a test asks, and stopped when the test binary exits. Each test package
// thus has its own emulator, and one package's load cannot slow another's.
// When moto is not installed the test skips, or fails under
// REQUIRE_EMULATORS=1.
func Moto(t testing.TB) string { t.Helper(); return moto.endpoint(t) }

// SESLocal returns the endpoint of an aws-ses-v2-local that only this test
// binary uses: SESLOCAL_ENDPOINT if set, otherwise one started with node from
// infra/dev/sesdev (or SESDEV_DIR), like Moto.
func SESLocal(t testing.TB) string { t.Helper(); return sesLocal.endpoint(t) }

// SESDevDir returns the directory where aws-ses-v2-local is installed
// (SESDEV_DIR, or infra/dev/sesdev), for code that starts its own inbox. It
// skips the test, or fails it under REQUIRE_EMULATORS=1, when the package or
// node is missing.
func SESDevDir(t testing.TB) string {
	t.Helper()
	dir, err := sesDevDir()
	if err != nil {
		unavailable(t, err)
	}
	return dir
}

func (e *emulator) endpoint(t testing.TB) string {
	t.Helper()
	if v := os.Getenv(e.env); v != "" {
		return v
	}
	e.once.Do(func() { e.c, e.err = e.start() })
	if e.err != nil {
		if errors.Is(e.err, errNotInstalled) {
			unavailable(t, e.err)
		}
		t.Fatalf("start %s: %v", e.name, e.err)
	}
	return e.c.url
}

// errNotInstalled marks an emulator that this machine does not have: the
// test skips (or fails under REQUIRE_EMULATORS=1). Any other start error
// fails the test.
var errNotInstalled = errors.New("not installed")

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("REQUIRE_EMULATORS") == "1" {
		t.Fatalf("%v, but REQUIRE_EMULATORS=1 (`make test` installs what the tests need)", err)
	}
	t.Skipf("%v; `make test` installs what the tests need", err)
}

func startMoto() (*child, error) {
	root := RepoRoot()
	python := filepath.Join(root, ".venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		return nil, fmt.Errorf("moto: %s: %w", python, errNotInstalled)
	}
	script := filepath.Join(root, "infra", "scripts", "moto_serial.py")
	return startChild("moto", "/moto-api/data.json", func(host, port string) *exec.Cmd {
		return exec.Command(python, script, host, port, "--exit-on-stdin-eof")
	})
}

func sesDevDir() (string, error) {
	dir := os.Getenv("SESDEV_DIR")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "infra", "dev", "sesdev")
	}
	if _, err := os.Stat(sesCLI(dir)); err != nil {
		return "", fmt.Errorf("aws-ses-v2-local: %s: %w", sesCLI(dir), errNotInstalled)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("aws-ses-v2-local: node: %w", errNotInstalled)
	}
	return dir, nil
}

func sesCLI(dir string) string {
	return filepath.Join(dir, "node_modules", "aws-ses-v2-local", "dist", "cli.js")
}

// exitOnStdinEOF is preloaded into node: the inbox exits when the test binary
// does (its end of the stdin pipe closes), on systems without a parent-death
// signal too.
const exitOnStdinEOF = `data:text/javascript,process.stdin.on("end",()=>process.exit(0));process.stdin.resume();`

func startSESLocal() (*child, error) {
	dir, err := sesDevDir()
	if err != nil {
		return nil, err
	}
	return startChild("aws-ses-v2-local", "/store", func(host, port string) *exec.Cmd {
		return exec.Command("node", "--import", exitOnStdinEOF, sesCLI(dir), "--host", host, "--port", port)
	})
}

// A child is a running emulator process.
type child struct {
	url   string
	cmd   *exec.Cmd
	stdin *os.File // held for the child's life: closing it (or exiting) stops the child
	out   *tail
	done  chan struct{}
}

// startChild starts an emulator on a free loopback port and waits until
// GET readyPath answers. The child is tied to this process three ways: the
// kernel kills it when the process ends (Linux parent-death signal), it exits
// when its stdin pipe closes (the process's end closes however it exits), and
// it is killed if it does not start. A port taken between choosing and
// binding is retried.
func startChild(name, readyPath string, command func(host, port string) *exec.Cmd) (*child, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var c *child
		if c, err = tryChild(name, readyPath, command); err == nil {
			return c, nil
		}
	}
	return nil, err
}

func tryChild(name, readyPath string, command func(host, port string) *exec.Cmd) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c := &child{url: "http://127.0.0.1:" + port, cmd: command("127.0.0.1", port), stdin: w, out: &tail{}, done: make(chan struct{})}
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = r, c.out, c.out
	c.cmd.SysProcAttr = childAttr()
	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the thread that started the
		// child ends, and Go may end threads: this goroutine keeps its
		// thread until the child has exited.
		runtime.LockOSThread()
		err := c.cmd.Start()
		started <- err
		if err == nil {
			_ = c.cmd.Wait()
		}
		close(c.done)
	}()
	err = <-started
	r.Close()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(c.url + readyPath); err == nil {
			resp.Body.Close()
			return c, nil
		}
		select {
		case <-c.done:
			w.Close()
			return nil, fmt.Errorf("%s exited before it answered on %s; its output:\n%s", name, c.url, c.out)
		case <-time.After(100 * time.Millisecond):
		}
	}
	_ = c.cmd.Process.Kill()
	<-c.done
	w.Close()
	return nil, fmt.Errorf("%s did not answer on %s within %s; its output:\n%s", name, c.url, startTimeout, c.out)
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// tail keeps the last 16 KiB written to it: an emulator's output, shown
// when it fails to start.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 16 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// motos are the extra moto servers of MotoN, by number.
var motos = struct {
	sync.Mutex
	m map[int]*emulator
}{m: map[int]*emulator{}}

// MotoN returns the endpoint of this test binary's moto server number n:
// 0 is Moto's, and each other n a server of its own, started on first use
// and stopped when the binary exits, like Moto's (MOTO_ENDPOINT, when set,
// serves every n). Moto serves one request at a time, so tests that spend
// their time in moto and share no table run side by side on servers of
// their own.
func MotoN(t testing.TB, n int) string {
	t.Helper()
	if n == 0 {
		return moto.endpoint(t)
	}
	motos.Lock()
	e := motos.m[n]
	if e == nil {
		e = &emulator{name: fmt.Sprintf("moto #%d", n), env: EnvMoto, start: startMoto}
		motos.m[n] = e
	}
	motos.Unlock()
	return e.endpoint(t)
}
