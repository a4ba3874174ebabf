// Command bootstrap creates an organisation, its first site and its first org
// admin in a deployed table, so the service is usable right after `sam
// deploy` without editing the table by hand. It uses the same store code as
// the functions and honours AWS_ENDPOINT_URL like them. Running it again with
// the same ids reports what already exists and changes nothing.
//
//	go run ./infra/cmd/bootstrap -table guestaccess-prod-Table-XYZ \
//	  -org 14west -org-name 14West -verified-domain 14west.example \
//	  -site wiki -site-name "14West Wiki" -site-host 14west.atlassian.net \
//	  -admin-id <IdP subject of the admin> -admin-email admin@14west.example -admin-name "Ada Admin"
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/platform/config"
	"github.com/guestaccess/guestaccess/shared/store"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bootstrap:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	table := fs.String("table", os.Getenv("TABLE_NAME"), "table name (stack output TableName)")
	org := fs.String("org", "", "org id (slug)")
	orgName := fs.String("org-name", "", "org display name")
	domains := fs.String("verified-domain", "", "comma-separated verified email domains")
	site := fs.String("site", "", "site id (slug)")
	siteName := fs.String("site-name", "", "site display name")
	siteHost := fs.String("site-host", "", "site host name")
	adminID := fs.String("admin-id", "", "account id of the first org admin: the `sub` of their JWT")
	adminEmail := fs.String("admin-email", "", "email of the first org admin")
	adminName := fs.String("admin-name", "", "display name of the first org admin")
	paid := fs.Bool("admin-confluence-user", true, "give the admin Confluence 'user' on the site (a paid user: 5 guest slots)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	email, why := domain.NormalizeEmail(*adminEmail)
	switch {
	case *table == "":
		return fmt.Errorf("-table is required")
	case !domain.ValidSlug(*org) || !domain.ValidSlug(*site):
		return fmt.Errorf("-org and -site must be slugs: lower-case letters, digits, hyphens")
	case *orgName == "" || *siteName == "" || *siteHost == "":
		return fmt.Errorf("-org-name, -site-name and -site-host are required")
	case !domain.ValidAccountID(*adminID):
		return fmt.Errorf("-admin-id must be the admin's JWT subject (printable, no '#')")
	case why != "":
		return fmt.Errorf("-admin-email %s", why)
	}
	var verified []string
	for _, d := range strings.Split(*domains, ",") {
		if strings.TrimSpace(d) == "" {
			continue
		}
		// Stored in the one form every comparison uses (IDNA ASCII).
		n := domain.NormalizeDomain(d)
		if n == "" {
			return fmt.Errorf("-verified-domain %q is not a valid domain", strings.TrimSpace(d))
		}
		if !slices.Contains(verified, n) {
			verified = append(verified, n)
		}
	}
	cfg, err := config.AWSConfig(ctx)
	if err != nil {
		return err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), *table)
	now := time.Now().UTC()
	var access []domain.Access
	if *paid {
		access = []domain.Access{{Product: domain.Confluence, Direct: domain.RoleUser, Effective: domain.RoleUser}}
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"org " + *org, func() error {
			return st.CreateOrg(ctx, domain.Org{ID: *org, Name: *orgName, VerifiedDomains: verified, CreatedAt: now})
		}},
		{"site " + *site, func() error {
			return st.CreateSite(ctx, domain.Site{OrgID: *org, ID: *site, Name: *siteName, Host: *siteHost, CreatedAt: now})
		}},
		{"org admin " + email, func() error {
			return st.CreateUser(ctx, domain.User{OrgID: *org, AccountID: *adminID, Email: email, DisplayName: *adminName, Status: domain.UserActive,
				OrgAdmin: true, External: domain.IsExternal(email, verified), CreatedAt: now}, *site, access)
		}},
	}
	for _, s := range steps {
		switch err := s.do(); domain.ErrorCode(err) {
		case "":
			fmt.Println("created", s.what)
		case domain.ECONFLICT:
			fmt.Println("exists ", s.what, "(unchanged)")
		default:
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}
