package console

import (
	"io/fs"
	"os/exec"
	"path"
	"regexp"
	"strings"
	"testing"
)

var (
	// htmlRef finds the files index.html loads.
	htmlRef = regexp.MustCompile(`(?:src|href)="([^"#:]+)"`)
	// jsRef finds a module's static and dynamic imports.
	jsRef = regexp.MustCompile(`(?:from|import\()\s*"(\.{1,2}/[^"]+)"`)
)

// TestEveryStaticFileIsUsed: every file under static/ is reached from
// index.html through its links and the modules' imports, and every file
// referenced exists (a screen whose module is missing would fail only when
// an admin opens it).
func TestEveryStaticFileIsUsed(t *testing.T) {
	files := Files()
	reached := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if reached[name] {
			return
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			t.Errorf("referenced but missing: %s", name)
			return
		}
		reached[name] = true
		re := jsRef
		if strings.HasSuffix(name, ".html") {
			re = htmlRef
		} else if !strings.HasSuffix(name, ".js") {
			return
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			visit(path.Clean(path.Join(path.Dir(name), m[1])))
		}
	}
	visit("index.html")
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !reached[p] {
			t.Errorf("%s is under static/ but nothing loads it", p)
		}
		return nil
	})
}

// TestStaticFilesKeepTheRules: what the CSP and the sign-in rules need of
// the files: no inline script or style in the HTML, no innerHTML, eval or
// string timers in the scripts, and the token never in localStorage or a
// cookie.
func TestStaticFilesKeepTheRules(t *testing.T) {
	files := Files()
	html, _ := fs.ReadFile(files, "index.html")
	for _, bad := range []string{"<style", " style=", "onclick=", "onload=", "javascript:"} {
		if strings.Contains(string(html), bad) {
			t.Errorf("index.html has %q (the CSP allows no inline script or style)", bad)
		}
	}
	if regexp.MustCompile(`<script(?:[^>]*)>\s*[^<\s]`).Match(html) {
		t.Error("index.html has an inline script")
	}
	forbidden := regexp.MustCompile(`\.innerHTML|\.outerHTML\s*=|insertAdjacentHTML|\beval\(|new Function|setTimeout\("|localStorage\s*\.|document\.cookie|\.style\.|setAttribute\("style"`)
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".js") {
			return nil
		}
		b, _ := fs.ReadFile(files, p)
		if m := forbidden.FindString(string(b)); m != "" {
			t.Errorf("%s uses %q", p, m)
		}
		return nil
	})
}

// TestScriptsParse runs `node --check` on every module (skipped without
// node; `make test` installs it).
func TestScriptsParse(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	_ = fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".js") {
			return nil
		}
		cmd := exec.Command(node, "--check", p)
		cmd.Dir = "static"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s does not parse: %v\n%s", p, err, out)
		}
		return nil
	})
}
