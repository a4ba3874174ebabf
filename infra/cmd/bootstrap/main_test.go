package main

import (
	"context"
	"strings"
	"testing"

	"github.com/guestaccess/guestaccess/infra/testkit/testenv"
	"github.com/guestaccess/guestaccess/shared/invitations/invitationsdb"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/store"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// TestBootstrapThroughEndpointEnv runs the command as an operator would,
// pointed at the emulator only by AWS_ENDPOINT_URL.
func TestBootstrapThroughEndpointEnv(t *testing.T) {
	ep := testenv.Moto(t)
	t.Setenv("AWS_ENDPOINT_URL", ep)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	cfg, err := config.AWSConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	table := testenv.Table(t, db)
	args := []string{"-table", table, "-org", "neworg", "-org-name", "New Org", "-verified-domain", "New.example, Bu\u0308cher.example, new.example",
		"-site", "wiki", "-site-name", "Wiki", "-site-host", "new.example.net", "-admin-id", "idp|42", "-admin-email", "Boss@New.example", "-admin-name", "Boss"}
	if err := run(context.Background(), args); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, table)
	sc, err := invitationsdb.New(st).LoadInvite(context.Background(), "neworg", "wiki", "idp|42", nil, nil)
	if err != nil || sc.Org == nil || sc.Site == nil || sc.Caller == nil {
		t.Fatalf("scope = %+v %v", sc, err)
	}
	if !sc.Caller.CanInvite("wiki") || sc.Caller.Email != "boss@new.example" || sc.Caller.External {
		t.Errorf("admin = %+v", sc.Caller)
	}
	if b := sc.Site.Billing(); b.PaidUsers != 1 || b.FreeGuestSlots != 5 {
		t.Errorf("billing = %+v", b)
	}
	if got := sc.Org.VerifiedDomains; len(got) != 2 || got[0] != "new.example" || got[1] != "xn--bcher-kva.example" {
		t.Errorf("domains = %v", got)
	}
	// Again: reports what exists, changes nothing.
	if err := run(context.Background(), args); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if s, _ := st.Site(context.Background(), "neworg", "wiki"); s.PaidUsers != 1 {
		t.Errorf("second run changed counters: %+v", s)
	}
}

func TestBootstrapRefusesBadFlags(t *testing.T) {
	bad := [][]string{
		{},
		{"-table", "t", "-org", "Bad Org", "-org-name", "x", "-site", "s", "-site-name", "x", "-site-host", "h", "-admin-id", "a", "-admin-email", "a@b.example"},
		{"-table", "t", "-org", "o", "-org-name", "x", "-site", "s", "-site-name", "x", "-site-host", "h", "-admin-id", "a#b", "-admin-email", "a@b.example"},
		{"-table", "t", "-org", "o", "-org-name", "x", "-site", "s", "-site-name", "x", "-site-host", "h", "-admin-id", "a", "-admin-email", "not-an-email"},
	}
	for i, args := range bad {
		if err := run(context.Background(), args); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
	// A domain that is no domain is refused before any AWS call.
	err := run(context.Background(), []string{"-table", "t", "-org", "o", "-org-name", "x", "-site", "s", "-site-name", "x", "-site-host", "h",
		"-admin-id", "a", "-admin-email", "a@b.example", "-verified-domain", "b.example,bad_domain.example"})
	if err == nil || !strings.Contains(err.Error(), "bad_domain.example") {
		t.Errorf("bad verified domain: %v", err)
	}
}
