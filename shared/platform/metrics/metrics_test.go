package metrics

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestEMFRecord(t *testing.T) {
	var buf bytes.Buffer
	r := &Recorder{Function: "InviteGuestsFunction", Out: &buf, Now: func() time.Time { return time.UnixMilli(1700000000000) }}
	r.Count(map[string]int{EmailsSent: 3, EmailsFailed: 0})
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	if rec["InvitationEmailsSent"] != float64(3) || rec["InvitationEmailsFailed"] != float64(0) || rec["Function"] != "InviteGuestsFunction" {
		t.Errorf("record = %v", rec)
	}
	aws := rec["_aws"].(map[string]any)
	cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if aws["Timestamp"] != float64(1700000000000) || cw["Namespace"] != Namespace || len(cw["Metrics"].([]any)) != 2 {
		t.Errorf("_aws = %v", aws)
	}
	if dims := cw["Dimensions"].([]any)[0].([]any); dims[0] != "Function" {
		t.Errorf("dimensions = %v", dims)
	}
	var nilRec *Recorder
	nilRec.Count(map[string]int{EmailsSent: 1}) // no panic, no output
}
