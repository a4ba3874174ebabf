package devstack_test

import (
	"encoding/json"
	"net/http"
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
