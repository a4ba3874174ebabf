package store

import (
	"encoding/json"
	"fmt"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// The audit entry's item is every capability's (each change writes its
// entry in its own transaction): its index keys and its decoder stay here,
// beside its encoder (auditItem); the log's reads are package auditdb's.
// An entry is in three lists at once: the table's day partition
// (table.AuditPK), GSI1 ORG#o#AUDIT#BY#<actor> and GSI2
// ORG#o#AUDIT#ON#<target>.

func auditActorGSI1PK(org, actor string) string {
	if actor == "" {
		return ""
	}
	return "ORG#" + org + "#AUDIT#BY#" + actor
}

func auditTargetGSI2PK(org, target string) string {
	if target == "" {
		return ""
	}
	return "ORG#" + org + "#AUDIT#ON#" + target
}

func decodeAudit(it table.Item) (domain.AuditEntry, error) {
	d := &table.Dec{It: it}
	a := domain.AuditEntry{OrgID: d.S("orgId"), ID: d.S("auditId"), At: d.T("at"), Actor: d.S("actor"), Action: d.S("action"),
		Target: d.S("target"), RequestID: d.S("requestId")}
	for name, dst := range map[string]*map[string]any{"before": &a.Before, "after": &a.After} {
		if raw := d.S(name); raw != "" {
			if err := json.Unmarshal([]byte(raw), dst); err != nil {
				return a, fmt.Errorf("store: audit %s: %w", name, err)
			}
		}
	}
	return a, d.Err
}
