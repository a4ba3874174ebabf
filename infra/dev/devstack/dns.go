package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/domains"
	"github.com/guestaccess/guestaccess/shared/domains/domainsapi"
)

// DomainCheckFunctionID is the scheduled check of domain proofs' logical
// id; it runs in process, outside the gateway.
const DomainCheckFunctionID = "DomainCheckFunction"

// domainCheckTimeout is the deadline the stack gives a run, as the
// template's Timeout gives the Lambda invocation.
const domainCheckTimeout = 300 * time.Second

// CheckDomains runs the scheduled check of domain proofs once, as its
// schedule would, with the invocation's deadline; it resolves at the
// stack's DNS server.
func (st *Stack) CheckDomains(ctx context.Context) (domains.Report, error) {
	ctx, cancel := context.WithTimeout(WithFunction(ctx, DomainCheckFunctionID), domainCheckTimeout)
	defer cancel()
	return domainsapi.DomainCheck(st.Env, st.Store)(ctx, events.EventBridgeEvent{ID: "dev-" + time.Now().UTC().Format("20060102T150405.000")})
}

// PublishChallenge publishes the challenge of an org's claim of a domain
// in the stack's DNS server, as the domain's owner would in its zone, and
// returns the record; ENOTFOUND when the org has not claimed it.
func (st *Stack) PublishChallenge(ctx context.Context, orgID, raw string) (name, value string, err error) {
	d := domain.NormalizeDomain(raw)
	cl, err := st.Store.DomainClaim(ctx, orgID, d)
	if err != nil {
		return "", "", err
	}
	if d == "" || cl == nil || cl.Token == "" {
		return "", "", domain.Errorf(domain.ENOTFOUND, "%s has no claim of %q: PUT /orgs/%s/domains/%s first.", orgID, raw, orgID, raw)
	}
	st.DNS.Publish(domain.ChallengeName(d), cl.ChallengeValue())
	return domain.ChallengeName(d), cl.ChallengeValue(), nil
}

// dnsHandler is the dev page's DNS: GET /dev/dns lists the records
// published (JSON); POST /dev/dns with org, domain and action=publish
// publishes that org's challenge for the domain, action=remove removes
// every record at the domain's challenge name. A form post (from /dev) is
// sent back to the page; anything else gets JSON.
func (st *Stack) dnsHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodPost {
		org, raw, action := r.FormValue("org"), r.FormValue("domain"), r.FormValue("action")
		switch action {
		case "publish":
			if _, _, err := st.PublishChallenge(r.Context(), org, raw); err != nil {
				msg := err.Error()
				var de *domain.Error
				if errors.As(err, &de) {
					msg = de.Message
				}
				http.Error(w, msg, http.StatusNotFound)
				return
			}
		case "remove":
			d := domain.NormalizeDomain(raw)
			if d == "" {
				http.Error(w, "not a domain: "+raw, http.StatusBadRequest)
				return
			}
			st.DNS.Remove(domain.ChallengeName(d), "")
		default:
			http.Error(w, "action must be publish or remove", http.StatusBadRequest)
			return
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, "/dev#dns", http.StatusSeeOther)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"resolver": st.DNS.Addr(), "records": st.DNS.Records()})
}

func dnsHost(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

func dnsPort(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
