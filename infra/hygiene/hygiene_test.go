// Package hygiene_test keeps build output out of the repository: no tracked
// file is an executable, and what `go build` of any main package writes at
// the repository root without -o is git-ignored.
package hygiene_test

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
)

// executableMagic are the first bytes of ELF, Mach-O (both byte orders, 32
// and 64 bit, universal) and PE/COFF files.
var executableMagic = [][]byte{
	[]byte("\x7fELF"),
	{0xfe, 0xed, 0xfa, 0xce}, {0xce, 0xfa, 0xed, 0xfe},
	{0xfe, 0xed, 0xfa, 0xcf}, {0xcf, 0xfa, 0xed, 0xfe},
	{0xca, 0xfe, 0xba, 0xbe},
	[]byte("MZ"),
}

func git(t *testing.T, root string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// TestNoExecutablesTracked fails when a committed file is a compiled binary.
func TestNoExecutablesTracked(t *testing.T) {
	root := testenv.RepoRoot()
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		t.Skip("not a git checkout")
	}
	files := bytes.Split(bytes.TrimRight(git(t, root, "ls-files", "-z"), "\x00"), []byte{0})
	for _, f := range files {
		name := string(f)
		fh, err := os.Open(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the work tree
		}
		head := make([]byte, 4)
		n, _ := fh.Read(head)
		fh.Close()
		for _, m := range executableMagic {
			if n >= len(m) && bytes.Equal(head[:len(m)], m) {
				t.Errorf("%s is a compiled executable: build output is never committed (git rm --cached it and ignore it)", name)
			}
		}
	}
}

// TestRootBuildOutputIgnored fails when `go build ./<pkg>` (no -o) of a main
// package would write a file at the root that git would offer to commit.
func TestRootBuildOutputIgnored(t *testing.T) {
	root := testenv.RepoRoot()
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		t.Skip("not a git checkout")
	}
	cmd := exec.Command("go", "list", "-f", "{{if eq .Name \"main\"}}{{.ImportPath}}{{end}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		name := path.Base(p)
		if seen[name] {
			continue
		}
		seen[name] = true
		check := exec.Command("git", "check-ignore", "-q", "--no-index", name)
		check.Dir = root
		if err := check.Run(); err != nil {
			t.Errorf("`go build ./%s` writes %q at the repository root and .gitignore does not ignore it: add /%s", strings.TrimPrefix(p, "github.com/guestaccess/guestaccess/"), name, name)
		}
	}
	if len(seen) == 0 {
		t.Fatal("go list found no main package: the check checked nothing")
	}
}
