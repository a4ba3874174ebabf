package extusers

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestCSVQuotesAndNeutralisesFormulas: RFC 4180 quoting (commas, quotes,
// line breaks), CRLF line ends, and no cell a spreadsheet would run.
func TestCSVQuotesAndNeutralisesFormulas(t *testing.T) {
	out := WriteCSV([][]string{{"a,b", `say "hi"`, "two\nlines", "=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "plain"}})
	want := "\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",\"'=HYPERLINK(\"\"x\"\")\",'+1,'-2,'@SUM(A1),'\tx,plain\r\n"
	if out != want {
		t.Fatalf("got  %q\nwant %q", out, want)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 1 || rows[0][0] != "a,b" || rows[0][3] != `'=HYPERLINK("x")` {
		t.Fatalf("read back: %q %v", rows, err)
	}
}

// TestRowsOfAnEntry: roles, spaces, billable and verification as columns.
func TestRowsOfAnEntry(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	org := domain.Org{ID: "o", Policy: domain.PolicySettings{TwoStep: true, VerifyEveryDays: 10}}
	u := domain.User{OrgID: "o", AccountID: "a", Email: "a@x.example", Status: domain.UserActive, VerifiedAt: now.Add(-24 * time.Hour), LastActive: now}
	e := EntryOf(org, u, map[string]domain.Access{
		"wiki/confluence": {Product: domain.Confluence, Effective: domain.RoleGuest, Space: "MKT"},
		"docs/confluence": {Product: domain.Confluence, Effective: domain.RoleUser},
		"wiki/jira":       {Product: "jira", Effective: domain.RoleNone},
	}, now)
	got := CSVRow(e)
	want := []string{"a@x.example", "a", "active", "2026-11-01T12:00:00Z", "docs/confluence:user; wiki/confluence:guest", "wiki:MKT", "yes", "verified", "2026-11-10T12:00:00Z"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// TestChunksAndParts: a page's rows are cut into chunks of whole rows
// within ChunkBytes, and chunks open a new part past PartBytes.
func TestChunksAndParts(t *testing.T) {
	var rows [][]string
	for range 30 {
		rows = append(rows, []string{strings.Repeat("x", 40)})
	}
	lim := Limits{ChunkBytes: 200, PartBytes: 500}.withDefaults()
	j := &domain.ExportJob{Parts: 1}
	cs := chunk(rows, 1, lim, j)
	total := ""
	for _, c := range cs {
		if len(c.Data) > 200 || !strings.HasSuffix(c.Data, "\r\n") {
			t.Fatalf("chunk %q", c.Data)
		}
		total += c.Data
	}
	if total != strings.Repeat(strings.Repeat("x", 40)+"\r\n", 30) || j.Parts < 3 || cs[len(cs)-1].Part != j.Parts {
		t.Fatalf("%d chunks, %d parts", len(cs), j.Parts)
	}
}
