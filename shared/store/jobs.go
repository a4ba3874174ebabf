package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// Fan-out jobs (docs/data-model.md, "Group jobs"): the job item ORG#o#JOB#j/JOB
// holds the state and the counts; each applied page leaves a marker
// PAGE#n (with its conversions) written in the page's own transaction, so a
// redelivered page is recognised and changes nothing twice; a page that
// went to the dead-letter queue leaves FAILED#n.

const typeJob, typePage = "job", "job-page"

func jobItem(j domain.Job) table.Item {
	// GSI2 lists an org's jobs, newest first.
	e := table.Keys{PK: table.JobPK(j.OrgID, j.ID), SK: table.SKJob, Type: typeJob, TTL: table.TTL(j.CreatedAt.Add(90 * 24 * time.Hour)),
		GSI2PK: "ORG#" + j.OrgID + "#JOBS", GSI2SK: j.CreatedAt.UTC().Format(time.RFC3339Nano) + "#" + j.ID}.Encode()
	e.S("orgId", j.OrgID)
	e.S("jobId", j.ID)
	e.S("groupId", j.GroupID)
	e.S("kind", string(j.Kind))
	e.S("site", j.Site)
	e.S("product", string(j.Product))
	e.S("role", string(j.Role))
	e.S("state", string(j.State))
	e.S("message", j.Message)
	e.S("plan", j.Plan)
	e.S("createdBy", j.CreatedBy)
	e.S("requestId", j.RequestID)
	e.N("members", int64(j.Members))
	e.N("changed", int64(j.Changed))
	e.N("done", int64(j.Done))
	e.N("pages", int64(j.Pages))
	e.N("pagesDone", int64(j.PagesDone))
	e.N("pagesFailed", int64(j.PagesFailed))
	if len(j.Reserved) > 0 {
		b, _ := json.Marshal(j.Reserved)
		e.S("reserved", string(b))
	}
	if len(j.ReservedUsers) > 0 {
		b, _ := json.Marshal(j.ReservedUsers)
		e.S("reservedUsers", string(b))
	}
	e.T("createdAt", j.CreatedAt)
	e.T("updatedAt", j.UpdatedAt)
	e.N("version", int64(j.Version))
	return table.Item(e)
}

func decodeJob(it table.Item) (domain.Job, error) {
	d := &table.Dec{It: it}
	j := domain.Job{OrgID: d.S("orgId"), ID: d.S("jobId"), GroupID: d.S("groupId"), Kind: domain.JobKind(d.S("kind")), Site: d.S("site"),
		Product: domain.Product(d.S("product")), Role: domain.Role(d.S("role")), State: domain.JobState(d.S("state")), Message: d.S("message"), Plan: d.S("plan"),
		CreatedBy: d.S("createdBy"), RequestID: d.S("requestId"), Members: int(d.N("members")), Changed: int(d.N("changed")), Done: int(d.N("done")),
		Pages: int(d.N("pages")), PagesDone: int(d.N("pagesDone")), PagesFailed: int(d.N("pagesFailed")), CreatedAt: d.T("createdAt"),
		UpdatedAt: d.T("updatedAt"), Version: int(d.N("version"))}
	if r := d.S("reserved"); r != "" {
		if err := json.Unmarshal([]byte(r), &j.Reserved); err != nil {
			return j, fmt.Errorf("store: job reserved: %w", err)
		}
	}
	if r := d.S("reservedUsers"); r != "" {
		if err := json.Unmarshal([]byte(r), &j.ReservedUsers); err != nil {
			return j, fmt.Errorf("store: job reserved users: %w", err)
		}
	}
	return j, d.Err
}

// StartJob writes a new job (planning) and takes the group's job lock, in
// one transaction: one job at a time per group. ECONFLICT names the job in
// flight.
func (s *Store) StartJob(ctx context.Context, j domain.Job) error {
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.Name, Item: jobItem(j), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.OrgPK(j.OrgID), table.GroupSK(j.GroupID)),
			UpdateExpression:                    aws.String("SET activeJob = :j"),
			ConditionExpression:                 aws.String("attribute_exists(PK) AND (attribute_not_exists(activeJob) OR activeJob = :none)"),
			ExpressionAttributeValues:           table.Item{":j": table.S(j.ID), ":none": table.S("-")},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
	}
	err := s.Transact(ctx, "start job", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	if old := c.Old(1); old != nil {
		d := &table.Dec{It: old}
		return &domain.Error{Code: domain.ECONFLICT, Message: "This group has a job in flight; wait for it to finish.", Extra: map[string]any{"jobId": d.S("activeJob")}}
	}
	if c.Code(1) == "ConditionalCheckFailed" {
		return domain.Errorf(domain.ECONFLICT, "This group has a job in flight, or is gone.")
	}
	return domain.Errorf(domain.ECONFLICT, "A job with this id exists.")
}

// Job reads a job and the conversions of its applied pages (one Query of
// the job's partition, followed to its end).
func (s *Store) Job(ctx context.Context, orgID, id string) (domain.Job, error) {
	var j domain.Job
	found := false
	cursor := ""
	for {
		res, next, err := s.query(ctx, (dynamodbQuery{pk: table.JobPK(orgID, id)}).input(), 1000, cursor)
		if err != nil {
			return j, err
		}
		for _, it := range res {
			d := &table.Dec{It: it}
			switch d.S("type") {
			case typeJob:
				conv := j.Conversions
				if j, err = decodeJob(it); err != nil {
					return j, err
				}
				j.Conversions, found = conv, true
			case typePage:
				var cs []domain.Conversion
				if b := d.S("conversions"); b != "" {
					if err := json.Unmarshal([]byte(b), &cs); err != nil {
						return j, fmt.Errorf("store: page conversions: %w", err)
					}
				}
				j.Conversions = append(j.Conversions, cs...)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if !found {
		return j, domain.Errorf(domain.ENOTFOUND, "No such job.")
	}
	return j, nil
}

// AllMembers reads every member of a group (Queries of up to 1,000).
func (s *Store) AllMembers(ctx context.Context, orgID, groupID string) ([]domain.Member, error) {
	var out []domain.Member
	cursor := ""
	for {
		p, err := s.GroupMembers(ctx, orgID, groupID, 1000, cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		cursor = p.Next
	}
}

// accessReaders is how many BatchGetItems AccessOf runs at once.
const accessReaders = 16

// AccessOf reads the access items of many users for some SiteProductKeys,
// 100 keys per BatchGetItem, accessReaders of them at once (a group job's
// plan reads every member's: 100,000 members on one key are 1,000 reads,
// a chain of 63 instead of 1,000 one after the other, within the jobs
// worker's 30 s), by account id then key; absent ones are absent.
func (s *Store) AccessOf(ctx context.Context, orgID string, accounts []string, spKeys []string) (map[string]map[string]domain.Access, error) {
	out := map[string]map[string]domain.Access{}
	type ref struct{ account, k string }
	var all []ref
	for _, a := range accounts {
		for _, k := range spKeys {
			all = append(all, ref{a, k})
		}
	}
	chunks := (len(all) + table.MaxBatchGet - 1) / table.MaxBatchGet
	got := make([]map[string]table.Item, chunks)
	errs := make([]error, chunks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(accessReaders, chunks) {
		wg.Go(func() {
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				chunk := all[c*table.MaxBatchGet : min(len(all), (c+1)*table.MaxBatchGet)]
				ks := make([]table.Item, 0, len(chunk))
				for _, r := range chunk {
					site, p, _ := strings.Cut(r.k, "/")
					ks = append(ks, table.Key(table.UserPK(orgID, r.account), table.AccessSK(site, p)))
				}
				got[c], errs[c] = s.BatchGet(ctx, ks)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for c := range chunks {
		for _, r := range all[c*table.MaxBatchGet : min(len(all), (c+1)*table.MaxBatchGet)] {
			site, p, _ := strings.Cut(r.k, "/")
			if it, ok := got[c][table.ID(table.UserPK(orgID, r.account), table.AccessSK(site, p))]; ok {
				ai, err := decodeAccess(it)
				if err != nil {
					return nil, err
				}
				if out[r.account] == nil {
					out[r.account] = map[string]domain.Access{}
				}
				out[r.account][r.k] = ai.domain()
			}
		}
	}
	return out, nil
}

// BeginJob moves a planned job to running in one transaction: the guest
// slots and user slots it needs reserved on each site (refused whole, with
// the site's numbers, when a site has too few), the group's new roles, and
// the job's plan (members, changes, pages, reservations).
func (s *Store) BeginJob(ctx context.Context, j domain.Job, groupRoles map[string]domain.Role) error {
	var tx []types.TransactWriteItem
	sites := sortedKeys(mergeSites(nil, j.Reserved, j.ReservedUsers))
	for _, site := range sites {
		r, ru := max(0, j.Reserved[site]), max(0, j.ReservedUsers[site])
		tx = append(tx, types.TransactWriteItem{Update: table.Counter(s.Name, j.OrgID, site, table.Change{Kind: table.Reserve, Slots: r, Users: ru})})
	}
	counters := len(tx)
	if groupRoles != nil {
		vals := table.Item{":one": table.N(1), ":j": table.S(j.ID)}
		tx = append(tx, types.TransactWriteItem{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.OrgPK(j.OrgID), table.GroupSK(j.GroupID)),
			UpdateExpression:          aws.String(table.SetOrRemove("#r", ":roles", rolesValue(groupRoles), vals) + "version = version + :one"),
			ConditionExpression:       aws.String("activeJob = :j"),
			ExpressionAttributeNames:  map[string]string{"#r": "roles"},
			ExpressionAttributeValues: vals}})
	} else if j.Kind == domain.JobGroupDelete {
		// From now on no member joins it (memberships check the flag in
		// their own transaction, see ChangeAccess).
		tx = append(tx, types.TransactWriteItem{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.OrgPK(j.OrgID), table.GroupSK(j.GroupID)),
			UpdateExpression: aws.String("SET deleting = :t"), ConditionExpression: aws.String("activeJob = :j"),
			ExpressionAttributeValues: table.Item{":t": &types.AttributeValueMemberBOOL{Value: true}, ":j": table.S(j.ID)}}})
	}
	if j.Audit != nil {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(*j.Audit))}})
	}
	next := j
	next.State = domain.JobRunning
	tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: jobItem(next),
		ConditionExpression: aws.String("#s = :planning"), ExpressionAttributeNames: map[string]string{"#s": "state"},
		ExpressionAttributeValues: table.Item{":planning": table.S(string(domain.JobPlanning))}}})
	err := s.Transact(ctx, "begin job", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	for k, site := range sites {
		if c.Code(k) == "ConditionalCheckFailed" {
			si, err := s.siteFrom(ctx, c, ownerOf(len(tx), k), j.OrgID, site)
			if err != nil {
				return err
			}
			e := domain.GuestLimitError(si, j.Reserved[site])
			if ru := j.ReservedUsers[site]; !si.FitsUsers(domain.Seats{Paid: ru}) {
				e = domain.UserLimitError(si, ru)
			}
			e.Message = fmt.Sprintf("Refused before any member changed: on site %s, %s", site, e.Message)
			return e
		}
	}
	_ = counters
	return domain.Errorf(domain.ECONFLICT, "The job or its group changed meanwhile.")
}

// rolesValue encodes a group's roles as the group item stores them (a map;
// an empty one is stored as an empty map only here, where it replaces one).
func rolesValue(m map[string]domain.Role) types.AttributeValue {
	mv := map[string]types.AttributeValue{}
	for k, r := range m {
		mv[k] = table.S(string(r))
	}
	return &types.AttributeValueMemberM{Value: mv}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// EndJob writes a job's final state (refused before it began, or done or
// failed after its pages) and frees the group: a finished delete job of no
// failed page removes the group and its name; its reservation left over is
// released. The condition is the state the caller saw, so two finishers
// cannot both finish.
func (s *Store) EndJob(ctx context.Context, j domain.Job, from domain.JobState, groupName string, release map[string]int64) error {
	var tx []types.TransactWriteItem
	for _, site := range sortedKeys(release) {
		if r := release[site]; r > 0 {
			tx = append(tx, types.TransactWriteItem{Update: table.Counter(s.Name, j.OrgID, site, table.Change{Kind: table.Release, Slots: r})})
		}
	}
	if j.Kind == domain.JobGroupDelete && j.State == domain.JobDone {
		tx = append(tx,
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.OrgPK(j.OrgID), table.GroupSK(j.GroupID))}},
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.GroupNamePK(j.OrgID, domain.GroupNameKey(groupName)), table.SKGroupName)}})
	} else {
		tx = append(tx, types.TransactWriteItem{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.OrgPK(j.OrgID), table.GroupSK(j.GroupID)),
			UpdateExpression: aws.String("SET activeJob = :none"), ConditionExpression: aws.String("activeJob = :j"),
			ExpressionAttributeValues: table.Item{":none": table.S("-"), ":j": table.S(j.ID)}}})
	}
	tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: jobItem(j),
		ConditionExpression: aws.String("#s = :from AND pagesDone = :pd AND pagesFailed = :pf"), ExpressionAttributeNames: map[string]string{"#s": "state"},
		ExpressionAttributeValues: table.Item{":from": table.S(string(from)), ":pd": table.N(int64(j.PagesDone)), ":pf": table.N(int64(j.PagesFailed))}}})
	err := s.Transact(ctx, "end job", tx)
	var c *table.Cancelled
	if errors.As(err, &c) {
		return domain.Errorf(domain.ECONFLICT, "The job changed meanwhile.")
	}
	return err
}

// dynamodbQuery is a Query of one partition of the table.
type dynamodbQuery struct{ pk string }

func (q dynamodbQuery) input() *dynamodb.QueryInput {
	return &dynamodb.QueryInput{KeyConditionExpression: aws.String("PK = :pk"), ExpressionAttributeValues: table.Item{":pk": table.S(q.pk)}}
}

// StaleEntries is returned by ApplyPage when some members' access changed
// after the plan read it: read them again, recompute, and apply again.
type StaleEntries struct{ Accounts []string }

// StaleAccounts names the members to read again.
func (e *StaleEntries) StaleAccounts() []string { return e.Accounts }

// Error implements error.
func (e *StaleEntries) Error() string {
	return fmt.Sprintf("store: %d members changed since the plan", len(e.Accounts))
}

// ErrJobNotRunning is returned by ApplyPage when the job is no longer
// running (finished, or failed) or runs another plan: the page is dropped.
// It is domain.ErrJobNotRunning, which the jobs worker tells by errors.Is.
var ErrJobNotRunning = domain.ErrJobNotRunning

// ErrJobPlanning is returned by ApplyPage when the job has not begun yet:
// the page is delivered again later.
var ErrJobPlanning = domain.Unavailable("The job has not begun yet.", 2*time.Second)

// ApplyPage writes one page of a job in one transaction: every entry's
// access items under their versions (a group delete also removes the
// memberships), each site's counters (its share of the reservation
// consumed; a page needing more than its share is checked against the
// free slots), the job's progress and the page's marker with its
// conversions. It returns applied=false, nil when the marker exists: the
// page was applied before (a redelivery) and nothing changed twice.
func (s *Store) ApplyPage(ctx context.Context, j domain.Job, p domain.JobPage, conversions []domain.Conversion) (applied bool, err error) {
	var tx []types.TransactWriteItem
	owner := []string{} // account of each transaction item; "" for others
	seats := map[string]domain.Seats{}
	for _, e := range p.Entries {
		u := domain.User{OrgID: j.OrgID, AccountID: e.AccountID, Email: e.Email}
		for _, k := range sortedKeys(e.After) {
			before, had := e.Before[k]
			after := e.After[k]
			site, _, _ := strings.Cut(k, "/")
			if after.Product == domain.Confluence {
				seats[site] = seats[site].Plus(domain.SeatsChange(before.Effective, after.Effective))
			}
			w, ok := s.accessWrite(u, k, before, had, after, false)
			if !ok {
				continue
			}
			tx = append(tx, w)
			owner = append(owner, e.AccountID)
		}
		if j.Kind == domain.JobGroupDelete {
			tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Name, Key: table.Key(table.UserPK(j.OrgID, e.AccountID), table.MemberSK(j.GroupID))}})
			owner = append(owner, "")
		}
	}
	firstCounter := len(tx)
	var counterSites []string
	for _, site := range sortedKeys(mergeSites(seats, p.Reserved, p.ReservedUsers)) {
		d, c, cu := seats[site], p.Reserved[site], p.ReservedUsers[site]
		tx = append(tx, types.TransactWriteItem{Update: table.Counter(s.Name, j.OrgID, site, table.Change{Kind: table.Consume, Seats: d, Slots: c, Users: cu})})
		owner = append(owner, "")
		counterSites = append(counterSites, site)
	}
	jobAt := len(tx)
	tx = append(tx, types.TransactWriteItem{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.JobPK(j.OrgID, j.ID), table.SKJob),
		UpdateExpression:                    aws.String("SET done = done + :n, pagesDone = pagesDone + :one, updatedAt = :at"),
		ConditionExpression:                 aws.String("#s = :running AND #p = :plan"),
		ExpressionAttributeNames:            map[string]string{"#s": "state", "#p": "plan"},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		ExpressionAttributeValues: table.Item{":n": table.N(int64(len(p.Entries))), ":one": table.N(1), ":at": table.S(time.Now().UTC().Format(time.RFC3339Nano)),
			":running": table.S(string(domain.JobRunning)), ":plan": table.S(j.Plan)}}})
	owner = append(owner, "")
	marker := table.Enc{}
	for k, v := range (table.Keys{PK: table.JobPK(j.OrgID, j.ID), SK: table.PageSK(p.Index), Type: typePage, TTL: table.TTL(time.Now().Add(90 * 24 * time.Hour))}).Encode() {
		marker[k] = v
	}
	marker.N("index", int64(p.Index))
	marker.N("entries", int64(len(p.Entries)))
	if len(conversions) > 0 {
		b, _ := json.Marshal(conversions)
		marker.S("conversions", string(b))
	}
	markerAt := len(tx)
	tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Item(marker), ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	owner = append(owner, "")
	if len(tx) > MaxTransactItems {
		return false, fmt.Errorf("store: page %d has %d items; pages are planned within %d", p.Index, len(tx), MaxTransactItems)
	}
	err = s.Transact(ctx, "apply job page", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err == nil, err
	}
	if c.Code(markerAt) == "ConditionalCheckFailed" {
		return false, nil
	}
	if c.Code(jobAt) == "ConditionalCheckFailed" {
		if old := c.Old(jobAt); old != nil {
			d := &table.Dec{It: old}
			if d.S("state") == string(domain.JobPlanning) {
				return false, ErrJobPlanning
			}
			return false, ErrJobNotRunning
		}
		got, err := s.Get(ctx, table.JobPK(j.OrgID, j.ID), table.SKJob)
		if err == nil && got != nil && (&table.Dec{It: got}).S("state") == string(domain.JobPlanning) {
			return false, ErrJobPlanning
		}
		return false, ErrJobNotRunning
	}
	var stale []string
	for i := 0; i < firstCounter; i++ {
		if c.Code(i) == "ConditionalCheckFailed" && owner[i] != "" && !slices.Contains(stale, owner[i]) {
			stale = append(stale, owner[i])
		}
	}
	if len(stale) > 0 {
		return false, &StaleEntries{Accounts: stale}
	}
	for i, site := range counterSites {
		if c.Code(firstCounter+i) == "ConditionalCheckFailed" {
			si, err := s.siteFrom(ctx, c, ownerOf(len(tx), firstCounter+i), j.OrgID, site)
			if err != nil {
				return false, err
			}
			return false, domain.LimitError(si, seats[site])
		}
	}
	return false, errors.New("store: apply job page: cancelled without a reason")
}

func mergeSites(a map[string]domain.Seats, bs ...map[string]int64) map[string]bool {
	out := map[string]bool{}
	for k, v := range a {
		if !v.Zero() {
			out[k] = true
		}
	}
	for _, b := range bs {
		for k, v := range b {
			if v != 0 {
				out[k] = true
			}
		}
	}
	return out
}

// FailPage records a page that kept failing (it reached the dead-letter
// queue): the job counts it and the page's share of the reservation goes
// back to the sites, in one transaction; a second report of the same page
// changes nothing.
func (s *Store) FailPage(ctx context.Context, j domain.Job, p domain.JobPage, reason string) error {
	var tx []types.TransactWriteItem
	for _, site := range sortedKeys(mergeSites(nil, p.Reserved, p.ReservedUsers)) {
		r, ru := max(0, p.Reserved[site]), max(0, p.ReservedUsers[site])
		tx = append(tx, types.TransactWriteItem{Update: table.Counter(s.Name, j.OrgID, site, table.Change{Kind: table.GiveBack, Slots: r, Users: ru})})
	}
	marker := (table.Keys{PK: table.JobPK(j.OrgID, j.ID), SK: table.FailedSK(p.Index), Type: "job-failed-page", TTL: table.TTL(time.Now().Add(90 * 24 * time.Hour))}).Encode()
	marker.N("index", int64(p.Index))
	marker.N("entries", int64(len(p.Entries)))
	marker.S("reason", reason)
	tx = append(tx,
		types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Item(marker), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Item((table.Keys{PK: table.JobPK(j.OrgID, j.ID), SK: table.PageSK(p.Index), Type: "job-page-claim"}).Encode()),
			ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		types.TransactWriteItem{Update: &types.Update{TableName: &s.Name, Key: table.Key(table.JobPK(j.OrgID, j.ID), table.SKJob),
			UpdateExpression: aws.String("SET pagesFailed = pagesFailed + :one"), ExpressionAttributeValues: table.Item{":one": table.N(1)}}})
	err := s.Transact(ctx, "fail job page", tx)
	var c *table.Cancelled
	if errors.As(err, &c) {
		return nil // reported before, or the page was applied after all
	}
	return err
}

// RecentJobs lists an org's latest jobs, newest first (without their
// conversions): one Query of GSI2.
func (s *Store) RecentJobs(ctx context.Context, orgID string, limit int) ([]domain.Job, error) {
	in := &dynamodb.QueryInput{IndexName: aws.String(GSI2), KeyConditionExpression: aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: table.Item{":pk": table.S("ORG#" + orgID + "#JOBS")}, ScanIndexForward: aws.Bool(false)}
	res, _, err := s.query(ctx, in, limit, "")
	if err != nil {
		return nil, err
	}
	out := make([]domain.Job, 0, len(res))
	for _, it := range res {
		j, err := decodeJob(it)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}
