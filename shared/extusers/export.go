package extusers

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/queue"
)

// CSVHeader is the export's header row.
var CSVHeader = []string{"email", "account id", "status", "last active", "product roles", "space", "billable", "verification state", "verification due date"}

// CSVRow is an entry as an export row. Product roles read
// "site/product:role" and spaces "site:SPACE", each joined by "; ";
// billable is yes or no; times are RFC 3339 (UTC), empty for none.
func CSVRow(e Entry) []string {
	roles := make([]string, len(e.Roles))
	for i, r := range e.Roles {
		roles[i] = r.Site + "/" + string(r.Product) + ":" + string(r.Role)
	}
	spaces := make([]string, len(e.Spaces))
	for i, sp := range e.Spaces {
		spaces[i] = sp.Site + ":" + sp.Space
	}
	billable := "no"
	if e.Billable {
		billable = "yes"
	}
	return []string{e.User.Email, e.User.AccountID, string(e.User.Status), csvTime(e.User.LastActive), strings.Join(roles, "; "),
		strings.Join(spaces, "; "), billable, e.Verification.State, csvTime(e.Verification.DueAt)}
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// SafeCell neutralises CSV formula injection: a cell that a spreadsheet
// would read as a formula (starting with =, +, -, @, or a tab or carriage
// return that some strip first) gets a leading apostrophe.
func SafeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// WriteCSV writes rows as RFC 4180 CSV (CRLF line ends, cells with a
// comma, quote or line break quoted, quotes doubled), every cell through
// SafeCell.
func WriteCSV(rows [][]string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	for _, r := range rows {
		safe := make([]string, len(r))
		for i, v := range r {
			safe[i] = SafeCell(v)
		}
		_ = w.Write(safe) // a bytes.Buffer does not fail
	}
	w.Flush()
	return b.String()
}

// Export is what the export route answers: the whole CSV, or the job that
// writes it when the directory is too large for one response.
type Export struct {
	CSV string
	Job *domain.ExportJob
}

// ExportNow exports the external users (org admins): when at most
// Limits.Inline users are read (reading at most one more to know), the CSV
// is answered at once, after its audit entry is written; past it, an export
// job is created and queued (CreateExport) and answered instead.
func (s *Service) ExportNow(ctx context.Context, c domain.Caller, orgID string, f domain.ExternalFilter) (Export, error) {
	org, err := s.admin(ctx, c, orgID)
	if err != nil {
		return Export{}, err
	}
	lim := s.Limits.withDefaults()
	now := s.now()
	var us []domain.User
	cursor := ""
	for {
		page, next, err := s.scan(ctx, org, f, cursor, lim.Inline+1-len(us))
		if err != nil {
			return Export{}, err
		}
		us = append(us, page...)
		if len(us) > lim.Inline {
			j, err := s.startExport(ctx, c, org, f)
			return Export{Job: &j}, err
		}
		if next == "" {
			break
		}
		cursor = next
	}
	var kept []domain.User
	for _, u := range us {
		if f.Keeps(org, u, now) {
			kept = append(kept, u)
		}
	}
	es, err := s.entries(ctx, org, kept, now)
	if err != nil {
		return Export{}, err
	}
	rows := [][]string{CSVHeader}
	for _, e := range es {
		rows = append(rows, CSVRow(e))
	}
	audit := domain.NewAudit(orgID, c.AccountID, domain.ActionExternalUsersExport, domain.OrgTarget(orgID), c.RequestID, now, nil, exportAfter(f, "inline", len(kept)))
	if err := s.Audits.RecordAudit(ctx, audit); err != nil {
		return Export{}, err
	}
	return Export{CSV: WriteCSV(rows)}, nil
}

func exportAfter(f domain.ExternalFilter, how string, rows int) map[string]any {
	m := map[string]any{"export": how}
	if f.Domain != "" {
		m["domain"] = f.Domain
	}
	if f.Status != "" {
		m["status"] = string(f.Status)
	}
	if f.Verification != "" {
		m["verification"] = f.Verification
	}
	if rows >= 0 {
		m["rows"] = rows
	}
	return m
}

// CreateExport creates an export job (org admins) whatever the directory's
// size: the job item with its audit entry in one transaction, then its
// first page queued. A queue that refuses the message leaves the job
// failed, and the error is answered.
func (s *Service) CreateExport(ctx context.Context, c domain.Caller, orgID string, f domain.ExternalFilter) (domain.ExportJob, error) {
	org, err := s.admin(ctx, c, orgID)
	if err != nil {
		return domain.ExportJob{}, err
	}
	return s.startExport(ctx, c, org, f)
}

func (s *Service) startExport(ctx context.Context, c domain.Caller, org domain.Org, f domain.ExternalFilter) (domain.ExportJob, error) {
	now := s.now()
	j := domain.ExportJob{OrgID: org.ID, ID: domain.NewID(), CreatedBy: c.AccountID, CreatedAt: now, UpdatedAt: now,
		ExpiresAt: now.Add(s.Limits.withDefaults().TTL), Status: domain.ExportRunning, Filter: f, Parts: 1}
	after := exportAfter(f, "job", -1)
	after["exportId"] = j.ID
	audit := domain.NewAudit(org.ID, c.AccountID, domain.ActionExternalUsersExport, domain.OrgTarget(org.ID), c.RequestID, now, nil, after)
	if err := s.ExportCreates.CreateExport(ctx, j, audit); err != nil {
		return j, err
	}
	if err := s.send(ctx, j, 1); err != nil {
		_ = s.Failures.FailExport(ctx, j, "its first page could not be queued", s.now())
		return j, err
	}
	return j, nil
}

// pageMessage is one export page on the queue: page n is written when the
// job has n−1 pages.
type pageMessage struct {
	OrgID    string `json:"orgId"`
	ExportID string `json:"exportId"`
	Page     int    `json:"page"`
}

func (s *Service) send(ctx context.Context, j domain.ExportJob, page int) error {
	b, _ := json.Marshal(pageMessage{OrgID: j.OrgID, ExportID: j.ID, Page: page})
	return s.Queue.Send(ctx, queue.Message{Body: string(b)})
}

// Job answers an export job's status and progress (org admins).
func (s *Service) Job(ctx context.Context, c domain.Caller, orgID, id string) (domain.ExportJob, error) {
	if _, err := s.admin(ctx, c, orgID); err != nil {
		return domain.ExportJob{}, err
	}
	if !domain.ValidSlug(id) {
		return domain.ExportJob{}, domain.Errorf(domain.ENOTFOUND, "No such export.")
	}
	return s.Jobs.ExportJob(ctx, orgID, id, s.now())
}

// Part answers one part of a finished export's CSV (parts count from 1;
// the header row opens part 1, so the parts in order are one CSV).
// ECONFLICT while the job runs or after it failed; ENOTFOUND for a part it
// does not have.
func (s *Service) Part(ctx context.Context, c domain.Caller, orgID, id string, part int) (string, domain.ExportJob, error) {
	j, err := s.Job(ctx, c, orgID, id)
	if err != nil {
		return "", j, err
	}
	switch {
	case j.Status == domain.ExportRunning:
		return "", j, domain.Errorf(domain.ECONFLICT, "The export is still running (%d rows so far); ask its status and download it once done.", j.Rows)
	case j.Status != domain.ExportDone:
		return "", j, domain.Errorf(domain.ECONFLICT, "The export failed: %s. Start a new one.", j.Error)
	case part < 1 || part > j.Parts:
		return "", j, &domain.Error{Code: domain.ENOTFOUND, Message: fmt.Sprintf("The export has %d parts.", j.Parts)}
	}
	chunks, err := s.Parts.ExportPart(ctx, orgID, id, part)
	return strings.Join(chunks, ""), j, err
}

// HandlePage writes one page of an export (the worker's message): the
// page's external users (Limits.Page read from the job's cursor, then
// filtered), their access, the CSV rows as chunks, and the job's progress,
// in one transaction conditioned on the pages written; then it queues the
// next page, or the last marks the job done. A redelivered page writes
// nothing twice: it finds its page written and only queues the next when
// that is not written yet (its first delivery may have stopped before).
func (s *Service) HandlePage(ctx context.Context, body string) error {
	var m pageMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.Page < 1 || m.OrgID == "" || m.ExportID == "" {
		if s.Log != nil {
			s.Log.WarnContext(ctx, "export worker: not an export page; dropped", "body", body)
		}
		return nil // no delivery would make it one
	}
	j, orgp, err := s.PageScopes.ExportPageScope(ctx, m.OrgID, m.ExportID, s.now())
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil // expired: nothing to do
	}
	if err != nil {
		return err
	}
	switch {
	case j.Status != domain.ExportRunning:
		return nil
	case j.Pages >= m.Page:
		if j.Pages == m.Page {
			return s.send(ctx, j, m.Page+1)
		}
		return nil
	case j.Pages < m.Page-1:
		return fmt.Errorf("export %s: page %d before page %d", j.ID, m.Page, j.Pages+1)
	}
	if orgp == nil {
		return errors.New("export: the org is gone")
	}
	org := *orgp
	lim := s.Limits.withDefaults()
	now := s.now()
	us, next, err := s.scan(ctx, org, j.Filter, j.Cursor, lim.Page)
	if err != nil {
		return err
	}
	var kept []domain.User
	for _, u := range us {
		if j.Filter.Keeps(org, u, now) {
			kept = append(kept, u)
		}
	}
	es, err := s.entries(ctx, org, kept, now)
	if err != nil {
		return err
	}
	var rows [][]string
	if m.Page == 1 {
		rows = append(rows, CSVHeader)
	}
	for _, e := range es {
		rows = append(rows, CSVRow(e))
	}
	after := j
	after.Pages, after.Rows, after.Cursor, after.UpdatedAt = m.Page, j.Rows+len(kept), next, now
	if next == "" {
		after.Status = domain.ExportDone
	}
	chunks := chunk(rows, m.Page, lim, &after)
	applied, err := s.PageWrites.WriteExportPage(ctx, j, after, chunks)
	if err != nil || !applied || next == "" {
		return err
	}
	return s.send(ctx, after, m.Page+1)
}

// chunk cuts a page's rows into chunks of at most ChunkBytes (whole rows),
// each in the job's current part unless its escaped size would take the
// part past PartBytes, when it opens the next part (j's Parts and
// PartBytes move along).
func chunk(rows [][]string, page int, lim Limits, j *domain.ExportJob) []domain.ExportChunk {
	var out []domain.ExportChunk
	var cur strings.Builder
	flush := func() {
		if cur.Len() == 0 && len(out) > 0 {
			return
		}
		data := cur.String()
		size := escapedLen(data)
		if j.PartBytes > 0 && j.PartBytes+size > lim.PartBytes {
			j.Parts++
			j.PartBytes = 0
		}
		j.PartBytes += size
		out = append(out, domain.ExportChunk{Part: j.Parts, Page: page, Index: len(out), Data: data})
		cur.Reset()
	}
	for _, r := range rows {
		line := WriteCSV([][]string{r})
		if cur.Len() > 0 && cur.Len()+len(line) > lim.ChunkBytes {
			flush()
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		flush()
	}
	return out
}

// escapedLen is how many bytes s takes as a JSON string in the Lambda
// response (quotes, control characters and <, >, & are escaped).
func escapedLen(s string) int {
	b, _ := json.Marshal(s)
	return len(b)
}

// Dead records a page that reached the dead-letter queue: its job failed.
func (s *Service) Dead(ctx context.Context, body string) error {
	var m pageMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return nil // nothing to record: a message that never was a page
	}
	j, err := s.Jobs.ExportJob(ctx, m.OrgID, m.ExportID, s.now())
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	return s.Failures.FailExport(ctx, j, fmt.Sprintf("page %d kept failing", m.Page), s.now())
}
