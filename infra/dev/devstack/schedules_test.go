package devstack_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSchedulesRunOnDemand: every Schedule event of template.yaml has a job
// in the dev stack (Start refuses otherwise), and POST /dev/schedules/{id}
// runs it now and answers its report; an unknown function is a 404; /dev
// lists the schedules.
func TestSchedulesRunOnDemand(t *testing.T) {
	e := start(t, "embedded")
	resp, err := http.Post(e.URL+"/dev/schedules/RetryInvitationEmailsFunction", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Function string
		Run      struct {
			Report map[string]any
			Error  string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.Function != "RetryInvitationEmailsFunction" || out.Run.Error != "" || out.Run.Report == nil {
		t.Fatalf("run: %d %+v %v", resp.StatusCode, out, err)
	}
	if r, _ := http.Post(e.URL+"/dev/schedules/NoSuchFunction", "", nil); r == nil || r.StatusCode != 404 {
		t.Errorf("unknown function: %v", r)
	}
	page, err := http.Get(e.URL + "/dev")
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("/dev: %v %v", page, err)
	}
	page.Body.Close()
}

// TestDevPageSaysNotRunYet (issue 16, item 13): /dev showed "00:00:00
// <nil>" as the latest run of a scheduled function that had not run (the
// template's `with` saw the zero run as a run). It now says "not run yet",
// and after a run its time and report.
func TestDevPageSaysNotRunYet(t *testing.T) {
	e := start(t, "embedded")
	page := func() string {
		t.Helper()
		resp, err := http.Get(e.URL + "/dev")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("/dev: %v %v", resp, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	before := page()
	if strings.Contains(before, "<nil>") || strings.Contains(before, "00:00:00") {
		t.Errorf("/dev shows a run that did not happen:\n%s", before)
	}
	functions := strings.Count(before, `action="/dev/schedules/`)
	if n := strings.Count(before, "<td>not run yet</td>"); n != functions || functions == 0 {
		t.Errorf("/dev says \"not run yet\" %d times, want %d (one per scheduled function)", n, functions)
	}
	if r, err := http.Post(e.URL+"/dev/schedules/RetryInvitationEmailsFunction", "", nil); err != nil || r.StatusCode != 200 {
		t.Fatalf("run: %v %v", r, err)
	}
	after := page()
	if n := strings.Count(after, "<td>not run yet</td>"); n != functions-1 || strings.Contains(after, "<nil>") {
		t.Errorf("after one run, \"not run yet\" %d times:\n%s", n, after)
	}
}
