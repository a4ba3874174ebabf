package extusers

import (
	"context"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// Fast unit tests of the service against function fakes of its ports (the
// store-backed tests in shared/store and the end-to-end suite run it on
// both backends). A test wires only the ports its path calls: a port left
// nil panics when reached, which fails the test.

type callerFn func(orgID, callerID string) (domain.Scope, error)

func (f callerFn) LoadCaller(_ context.Context, orgID, callerID string) (domain.Scope, error) {
	return f(orgID, callerID)
}

type jobFn func(orgID, id string) (domain.ExportJob, error)

func (f jobFn) ExportJob(_ context.Context, orgID, id string, _ time.Time) (domain.ExportJob, error) {
	return f(orgID, id)
}

// routes calls each of the service's routes once, as caller c of org "o".
func routes() map[string]func(s *Service, c domain.Caller) error {
	ctx := context.Background()
	return map[string]func(s *Service, c domain.Caller) error{
		"Domains": func(s *Service, c domain.Caller) error { _, err := s.Domains(ctx, c, "o"); return err },
		"AddDomain": func(s *Service, c domain.Caller) error {
			_, _, err := s.AddDomain(ctx, c, "o", "a.example")
			return err
		},
		"CheckDomain": func(s *Service, c domain.Caller) error { _, err := s.CheckDomain(ctx, c, "o", "a.example"); return err },
		"RemoveDomain": func(s *Service, c domain.Caller) error {
			_, err := s.RemoveDomain(ctx, c, "o", "a.example")
			return err
		},
		"List": func(s *Service, c domain.Caller) error { _, err := s.List(ctx, c, "o", Query{Limit: 10}); return err },
		"ExportNow": func(s *Service, c domain.Caller) error {
			_, err := s.ExportNow(ctx, c, "o", domain.ExternalFilter{})
			return err
		},
		"CreateExport": func(s *Service, c domain.Caller) error {
			_, err := s.CreateExport(ctx, c, "o", domain.ExternalFilter{})
			return err
		},
		"Job":  func(s *Service, c domain.Caller) error { _, err := s.Job(ctx, c, "o", "e1"); return err },
		"Part": func(s *Service, c domain.Caller) error { _, _, err := s.Part(ctx, c, "o", "e1", 1); return err },
	}
}

// TestOnlyOrgAdmins: every route reads the org and the caller first, and
// answers a member, a suspended admin (EFORBIDDEN) or a caller outside the
// org (ENOTFOUND) before any other read or write: the service has only
// the caller's port.
func TestOnlyOrgAdmins(t *testing.T) {
	org := &domain.Org{ID: "o"}
	for who, tc := range map[string]struct {
		caller *domain.User
		code   string
	}{
		"member":          {&domain.User{OrgID: "o", AccountID: "m", Status: domain.UserActive}, domain.EFORBIDDEN},
		"suspended admin": {&domain.User{OrgID: "o", AccountID: "m", Status: domain.UserSuspended, OrgAdmin: true}, domain.EFORBIDDEN},
		"outsider":        {nil, domain.ENOTFOUND},
	} {
		for route, call := range routes() {
			t.Run(who+"/"+route, func(t *testing.T) {
				reads := 0
				s := &Service{Ports: Ports{Callers: callerFn(func(orgID, callerID string) (domain.Scope, error) {
					reads++
					return domain.Scope{Org: org, Caller: tc.caller}, nil
				})}}
				err := call(s, domain.Caller{AccountID: "m", RequestID: "r"})
				if domain.ErrorCode(err) != tc.code || reads != 1 {
					t.Fatalf("%v after %d reads; want %s after one", err, reads, tc.code)
				}
			})
		}
	}
}

// TestJobIsTheOrgs: an admin reads an export job through the org and the
// caller, then the job of that org alone (the id is looked up under the org
// in the path).
func TestJobIsTheOrgs(t *testing.T) {
	admin := &domain.User{OrgID: "o", AccountID: "a", Status: domain.UserActive, OrgAdmin: true}
	s := &Service{Ports: Ports{
		Callers: callerFn(func(string, string) (domain.Scope, error) {
			return domain.Scope{Org: &domain.Org{ID: "o"}, Caller: admin}, nil
		}),
		Jobs: jobFn(func(orgID, id string) (domain.ExportJob, error) {
			if orgID != "o" || id != "e1" {
				t.Errorf("job read %s/%s, want o/e1", orgID, id)
			}
			return domain.ExportJob{OrgID: orgID, ID: id, Status: domain.ExportDone}, nil
		}),
	}}
	j, err := s.Job(context.Background(), domain.Caller{AccountID: "a"}, "o", "e1")
	if err != nil || j.ID != "e1" || j.Status != domain.ExportDone {
		t.Fatalf("Job = %+v, %v", j, err)
	}
}
