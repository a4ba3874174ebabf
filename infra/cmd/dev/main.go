// Command dev runs the whole API on this machine (`make dev`): embedded
// DynamoDB, the aws-ses-v2-local inbox, the demo org 14West, and every route
// of template.yaml behind the real authorizer and handlers.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/guestaccess/guestaccess/shared/devstack"
)

func main() {
	addr := flag.String("addr", envOr("DEV_ADDR", "127.0.0.1:8080"), "API listen address")
	sesAddr := flag.String("ses-addr", envOr("DEV_SES_ADDR", "127.0.0.1:8005"), "SES inbox listen address")
	paid := flag.Int("paid-users", 2, "extra paid users on the demo site (each allows 5 guests)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := devstack.Start(ctx, devstack.Options{Addr: *addr, SESAddr: *sesAddr, PaidUsers: *paid, Log: logger})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	fmt.Printf(`
Guest access is running at %[1]s  (overview: %[1]s/dev)
  DynamoDB: embedded minidyn, table created from template.yaml
  SES inbox (read the invitation emails, click their links): %[2]s

Demo org 14West (org id 14west, site wiki). Get a token for an account:
  curl -s '%[1]s/dev/token?sub=admin-14west'
Accounts: admin-14west (org admin), siteadmin-14west (site admin),
          alice-14west (no admin power), admin-acme (admin of another org)

Invite a guest:
%[3]s

Press Ctrl-C to stop.
`, st.URL, st.SESURL, st.Curl())
	<-ctx.Done()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
