package auditdb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/store"
	"github.com/guestaccess/guestaccess/shared/table"
)

// The audit log's reads (A23). An entry is one item, written in its
// change's transaction, in three lists at once at no extra item:
//
//   - the table: ORG#o#AUDIT#<day> / <time>#id, one partition per UTC day;
//     the whole log is read by walking the days newest first;
//   - GSI1: ORG#o#AUDIT#BY#<actor> / <time>#id, an actor's entries;
//   - GSI2: ORG#o#AUDIT#ON#<target> / <time>#id, a target's entries.
//
// <time> is fixed-width UTC (auditTime), so each list sorts by time.

func auditDayPrefix(org string) string { return "ORG#" + org + "#AUDIT#" }

// AuditDayQueries bounds the day partitions one page of the whole log
// queries: a page that meets that many days (most of them empty) before it
// is full ends early, with a cursor at the next day to read.
const AuditDayQueries = 31

// auditCursor is where a page of the log ends: a partition (a day of the
// table, or the actor's or target's index partition) and the sort key of
// the last entry read in it ("" = from the top of that partition).
type auditCursor struct {
	P string `json:"p"`
	S string `json:"s,omitempty"`
}

func (c auditCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeAuditCursor(s string) (auditCursor, error) {
	var c auditCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 2048 || json.Unmarshal(b, &c) != nil || c.P == "" {
		return c, store.BadCursor()
	}
	if c.S != "" {
		if _, _, ok := parseAuditSK(c.S); !ok {
			return c, store.BadCursor()
		}
	}
	return c, nil
}

func parseAuditSK(sk string) (time.Time, string, bool) {
	ts, id, ok := strings.Cut(sk, "#")
	if !ok || id == "" || len(ts) != len(table.AuditTimeLayout) {
		return time.Time{}, "", false
	}
	at, err := time.Parse(table.AuditTimeLayout, ts)
	return at, id, err == nil
}

// AuditLog reads a page of an org's audit log, newest first. With an actor
// it is one Query of GSI1 (with a target too, filtered by it: cost ∝ the
// actor's entries in the window); with a target alone one Query of GSI2;
// otherwise it walks the day partitions from To back to From, one Query per
// day, at most AuditDayQueries of them: a page may then hold fewer than
// Limit entries and still have a next cursor.
func (s *Store) AuditLog(ctx context.Context, orgID string, q domain.AuditQuery) (domain.Page[domain.AuditEntry], error) {
	var out domain.Page[domain.AuditEntry]
	lo, hi := table.AuditTime(q.From), table.AuditTime(q.To)+"$" // '$' sorts after '#': entries at To itself are in
	in := &dynamodb.QueryInput{TableName: &s.Name, ScanIndexForward: aws.Bool(false)}
	vals := table.Item{":lo": table.S(lo), ":hi": table.S(hi)}
	var pk string
	switch {
	case q.Actor != "":
		in.IndexName = aws.String(table.GSI1)
		in.KeyConditionExpression = aws.String("GSI1PK = :pk AND GSI1SK BETWEEN :lo AND :hi")
		pk = store.AuditActorGSI1PK(orgID, q.Actor)
		if q.Target != "" {
			in.FilterExpression = aws.String("#t = :t")
			in.ExpressionAttributeNames = map[string]string{"#t": "target"}
			vals[":t"] = table.S(q.Target)
		}
	case q.Target != "":
		in.IndexName = aws.String(table.GSI2)
		in.KeyConditionExpression = aws.String("GSI2PK = :pk AND GSI2SK BETWEEN :lo AND :hi")
		pk = store.AuditTargetGSI2PK(orgID, q.Target)
	default:
		return s.auditDays(ctx, orgID, q, lo, hi)
	}
	vals[":pk"] = table.S(pk)
	in.ExpressionAttributeValues = vals
	limit := max(1, min(q.Limit, 1000))
	if in.FilterExpression == nil {
		in.Limit = aws.Int32(int32(limit))
	}
	// Filtered by target, a Query reads up to 1 MB of the actor's entries
	// (no Limit: DynamoDB's would count the entries read, not those kept,
	// and minidyn v0.8.2's counted entries of other partitions too); the page keeps
	// the first limit and its cursor is the last kept.
	if q.Cursor != "" {
		c, err := decodeAuditCursor(q.Cursor)
		if err != nil {
			return out, err
		}
		if c.P != pk || c.S == "" {
			return out, store.BadCursor()
		}
		in.ExclusiveStartKey = auditStartKey(orgID, *in.IndexName, c)
	}
	res, err := s.DB.Query(ctx, in)
	if err != nil {
		return out, fmt.Errorf("store: audit log: %w", err)
	}
	if len(res.Items) > limit {
		res.Items = res.Items[:limit]
		out.Next = auditCursor{P: pk, S: (&table.Dec{It: res.Items[limit-1]}).S("SK")}.encode()
	}
	if out.Items, err = decodeAuditItems(res.Items); err != nil {
		return out, err
	}
	if out.Next == "" && len(res.LastEvaluatedKey) > 0 {
		d := &table.Dec{It: res.LastEvaluatedKey}
		out.Next = auditCursor{P: pk, S: d.S("SK")}.encode()
	}
	return out, nil
}

// auditDays walks the day partitions newest first (see AuditLog).
func (s *Store) auditDays(ctx context.Context, orgID string, q domain.AuditQuery, lo, hi string) (domain.Page[domain.AuditEntry], error) {
	var out domain.Page[domain.AuditEntry]
	first := dayOf(q.From)
	day, start := dayOf(q.To), ""
	if q.Cursor != "" {
		c, err := decodeAuditCursor(q.Cursor)
		if err != nil {
			return out, err
		}
		d, ok := strings.CutPrefix(c.P, auditDayPrefix(orgID))
		at, err := time.Parse("2006-01-02", d)
		if !ok || err != nil || at.Before(first) || at.After(day) {
			return out, store.BadCursor()
		}
		day, start = at, c.S
	}
	limit := max(1, min(q.Limit, 1000))
	for queries := 0; ; queries++ {
		if day.Before(first) {
			return out, nil
		}
		pk := table.AuditPK(orgID, day)
		if queries == AuditDayQueries || len(out.Items) == limit {
			out.Next = auditCursor{P: pk, S: start}.encode()
			return out, nil
		}
		in := &dynamodb.QueryInput{TableName: &s.Name, ScanIndexForward: aws.Bool(false),
			KeyConditionExpression:    aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: table.Item{":pk": table.S(pk), ":lo": table.S(lo), ":hi": table.S(hi)},
			Limit:                     aws.Int32(int32(limit - len(out.Items)))}
		if start != "" {
			in.ExclusiveStartKey = table.Key(pk, start)
		}
		res, err := s.DB.Query(ctx, in)
		if err != nil {
			return out, fmt.Errorf("store: audit log: %w", err)
		}
		items, err := decodeAuditItems(res.Items)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, items...)
		if len(res.LastEvaluatedKey) > 0 {
			start = (&table.Dec{It: res.LastEvaluatedKey}).S("SK")
			continue
		}
		day, start = day.AddDate(0, 0, -1), ""
	}
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// auditStartKey rebuilds an index's start key from a cursor: the table's
// keys follow from the entry's sort key (its time names its day).
func auditStartKey(orgID, index string, c auditCursor) table.Item {
	at, _, _ := parseAuditSK(c.S)
	return table.Item{"PK": table.S(table.AuditPK(orgID, at)), "SK": table.S(c.S), index + "PK": table.S(c.P), index + "SK": table.S(c.S)}
}

func decodeAuditItems(items []table.Item) ([]domain.AuditEntry, error) {
	out := make([]domain.AuditEntry, 0, len(items))
	for _, it := range items {
		a, err := store.DecodeAudit(it)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
