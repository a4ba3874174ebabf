// Command dev runs the whole API on this machine (`make dev`): embedded
// DynamoDB, the aws-ses-v2-local inbox, the demo org 14West, and every route
// of template.yaml behind the real authorizer and handlers.
//
// The functions' logs (the authorizer and the handlers log every request)
// go to a file, .cache/dev.log by default, so that they do not scroll the
// banner away; the terminal shows warnings and errors, and with -requests
// one short line per request.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/guestaccess/guestaccess/infra/dev/devstack"
)

func main() {
	addr := flag.String("addr", envOr("DEV_ADDR", "127.0.0.1:8080"), "API listen address")
	sesAddr := flag.String("ses-addr", envOr("DEV_SES_ADDR", "127.0.0.1:8005"), "SES inbox listen address")
	consoleAddr := flag.String("console-addr", envOr("DEV_CONSOLE_ADDR", "127.0.0.1:8081"), "admin console listen address (its own origin)")
	dnsAddr := flag.String("dns-addr", envOr("DEV_DNS_ADDR", "127.0.0.1:0"), "loopback DNS server the functions resolve domain challenges at (UDP and TCP)")
	paid := flag.Int("paid-users", 2, "extra paid users on the demo site (each allows 5 guests)")
	logPath := flag.String("log", os.Getenv("DEV_LOG"), "file for the functions' logs (default .cache/dev.log at the repository root)")
	requests := flag.Bool("requests", os.Getenv("DEV_REQUESTS") == "1", "print one short line per request on the terminal")
	flag.Parse()

	if *logPath == "" {
		tpl, err := devstack.FindTemplate()
		if err != nil {
			log.Fatal(err)
		}
		*logPath = filepath.Join(filepath.Dir(tpl), ".cache", "dev.log")
	}
	if err := os.MkdirAll(filepath.Dir(*logPath), 0o755); err != nil {
		log.Fatal(err)
	}
	logFile, err := os.Create(*logPath)
	if err != nil {
		log.Fatal(err)
	}
	defer logFile.Close()
	logger := slog.New(slog.NewMultiHandler(
		slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}),
		slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
	))
	var requestLog io.Writer
	if *requests {
		requestLog = os.Stderr
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Println("Starting the SES inbox (aws-ses-v2-local), the embedded DynamoDB and the demo data…")
	st, err := devstack.Start(ctx, devstack.Options{Addr: *addr, SESAddr: *sesAddr, ConsoleAddr: *consoleAddr, DNSAddr: *dnsAddr, PaidUsers: *paid, Personas: true, Schedules: true, Log: logger, RequestLog: requestLog})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	fmt.Print(banner(st, *logPath, *requests))
	<-ctx.Done()
}

func banner(st *devstack.Stack, logPath string, requests bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
Guest access is running at %[1]s  (overview: %[1]s/dev)
  Admin console: %[4]s  (its own origin: every call is a cross-origin call to the API;
    sign in as admin-14west on the dev identity provider's page)
  DynamoDB: embedded minidyn, table created from template.yaml
  SES inbox (read the invitation emails, click their links): %[2]s
  the same emails as JSON: %[3]s
  scheduled functions run on their template rates; one now:
    curl -s -X POST %[1]s/dev/schedules/RetryInvitationEmailsFunction
    curl -s -X POST %[1]s/dev/schedules/ReverifyFunction

Demo org 14West (org id 14west, site wiki). Get a token for an account:
  curl -s '%[1]s/dev/token?sub=admin-14west'
A product's token for access decisions, bound to its product and org (14west when org= is left out):
  curl -s '%[1]s/dev/token?product=confluence&org=14west'
Accounts:
`, st.URL, st.SESURL, st.InboxJSON(), st.ConsoleURL)
	for _, a := range devstack.Accounts() {
		fmt.Fprintf(&b, "  %-18s %s\n", a.ID, a.Power)
	}
	b.WriteString(`Groups (invite with "groups":["partners"], with or without "products"):` + "\n")
	for _, g := range devstack.Groups() {
		fmt.Fprintf(&b, "  %-18s %s\n", g.Name, g.Grants)
	}
	fmt.Fprintf(&b, "\nInvite a guest:\n%s\n\n", st.Curl())
	fmt.Fprintf(&b, "Group jobs (PUT %[1]s/orgs/14west/groups/{id}/roles/wiki/confluence, DELETE a group) run through an\nin-process queue and the real worker; follow one at GET /orgs/14west/jobs/{id}; %[1]s/dev lists the latest.\n\n", st.URL)
	fmt.Fprintf(&b, `External users (gus-14west is one; 14west.example is the verified domain). Turn two-step verification on:
curl -s -X PUT %[1]s/orgs/14west/external-policy -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"twoStepVerification":"on","verifyEvery":{"days":7},"apiTokens":"allowed"}'
then gus's access decision answers verification_required until gus verifies at %[1]s/orgs/14west/verify
(the code arrives in the SES inbox). List and export: GET /orgs/14west/external-users, GET /orgs/14west/external-users/export.

Verified domains are proven by a DNS TXT challenge. The functions resolve at this stack's DNS server, %[2]s:
curl -s -X PUT %[1]s/orgs/14west/domains/partner.example -H "Authorization: Bearer $TOKEN"   # pending, with its record
curl -s -X POST %[1]s/dev/dns -d org=14west -d domain=partner.example -d action=publish         # the owner publishes it
curl -s -X POST %[1]s/orgs/14west/domains/partner.example/check -H "Authorization: Bearer $TOKEN"   # verified
(%[1]s/dev#dns has the same as buttons; action=remove takes the record away, and DomainCheckFunction's runs lapse the domain.)

`, st.URL, st.DNS.Addr())
	fmt.Fprintf(&b, "Logs of every request: %s (tail -f it); this terminal shows warnings and errors", logPath)
	if requests {
		b.WriteString(", and one line per request")
	} else {
		b.WriteString(" (-requests or DEV_REQUESTS=1 adds one line per request)")
	}
	b.WriteString(".\nPress Ctrl-C to stop.\n")
	return b.String()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
