// Package metrics writes CloudWatch embedded metric format (EMF) records:
// one JSON line on stdout that CloudWatch Logs turns into metrics, with no
// API call and no extra permission.
package metrics

import (
	"encoding/json"
	"io"
	"os"
	"sort"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "GuestAccess"

// Metric names.
const (
	InvitesSent         = "InvitationsCreated"
	EmailsSent          = "InvitationEmailsSent"
	EmailsFailed        = "InvitationEmailsFailed"
	GuestLimitRefusals  = "GuestLimitRefusals"
	InvitationsAccepted = "InvitationsAccepted"
	EmailRetryDue       = "InvitationEmailsDue"
	InvitationsExpired  = "InvitationsExpired"
	// JobPagesFailed counts the pages of group jobs and exports that
	// reached their dead-letter queue and whose job the worker marked
	// failed (template.yaml's GroupJobFailedAlarm and ExportFailedAlarm).
	JobPagesFailed = "JobPagesFailed"
)

// Names lists every metric name above: the only ones an alarm or the
// dashboard may read in Namespace (infra/samtemplate's checks).
var Names = []string{InvitesSent, EmailsSent, EmailsFailed, GuestLimitRefusals, InvitationsAccepted, EmailRetryDue, InvitationsExpired, JobPagesFailed}

// Recorder emits EMF records for one function.
type Recorder struct {
	Function string
	Out      io.Writer // default os.Stdout
	Now      func() time.Time
	mu       sync.Mutex
}

// Count emits one record with the given counts (zero counts are kept: a
// flat line is information too). A nil Recorder does nothing.
func (r *Recorder) Count(counts map[string]int) {
	if r == nil || len(counts) == 0 {
		return
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	defs := make([]map[string]string, 0, len(names))
	rec := map[string]any{"Function": r.Function}
	for _, n := range names {
		defs = append(defs, map[string]string{"Name": n, "Unit": "Count"})
		rec[n] = counts[n]
	}
	rec["_aws"] = map[string]any{
		"Timestamp": now().UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": [][]string{{"Function"}},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	out := r.Out
	if out == nil {
		out = os.Stdout
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = out.Write(append(b, '\n'))
}
