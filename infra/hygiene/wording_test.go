package hygiene_test

import (
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
)

// maybePlural finds the "user(s)" way of writing a count ("http(s)" is a
// scheme, not a count).
var maybePlural = regexp.MustCompile(`\b(?:[A-Za-z]+)\((?:s|es)\)`)

// jsString finds the string and template literals of a line of script (and
// the text of a page).
var jsString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`(?:[^`\\\\]|\\\\.)*`" + `|>[^<]+<`)

// TestCountsAreSaidInWords (issue 16, item 13): what a person reads (API
// problem details, warnings, emails, pages, the console) says "1 invitee"
// and "6 paid users", never "invitee(s)": no Go string literal outside
// tests, and no line of the console's scripts, writes a noun with "(s)".
func TestCountsAreSaidInWords(t *testing.T) {
	root := testenv.RepoRoot()
	var files []string
	for _, dir := range []string{"shared", "functions", "infra/dev"} {
		_ = filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if n := d.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") || strings.HasSuffix(n, ".js") || strings.HasSuffix(n, ".html") {
				files = append(files, p)
			}
			return nil
		})
	}
	bad := func(s string) string {
		for _, m := range maybePlural.FindAllString(s, -1) {
			if !strings.HasPrefix(strings.ToLower(m), "http(") {
				return m
			}
		}
		return ""
	}
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		if !strings.HasSuffix(p, ".go") {
			for i, line := range strings.Split(string(src), "\n") {
				if l := strings.TrimSpace(line); strings.HasPrefix(l, "//") || strings.HasPrefix(l, "*") || strings.HasPrefix(l, "/*") {
					continue
				}
				for _, lit := range jsString.FindAllString(line, -1) {
					if m := bad(lit); m != "" {
						t.Errorf("%s:%d writes %q: say the count in words (text.js count)", rel, i+1, m)
					}
				}
			}
			continue
		}
		var s scanner.Scanner
		fset := token.NewFileSet()
		s.Init(fset.AddFile(p, -1, len(src)), src, nil, 0)
		for {
			pos, tok, lit := s.Scan()
			if tok == token.EOF {
				break
			}
			if tok == token.STRING {
				if m := bad(lit); m != "" {
					t.Errorf("%s writes %q: say the count in words (domain.Count)", fset.Position(pos), m)
				}
			}
		}
	}
	if len(files) < 100 {
		t.Errorf("only %d files read", len(files))
	}
}
