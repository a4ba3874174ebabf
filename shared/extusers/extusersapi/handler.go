package extusersapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/extusers"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

// ExternalUsersService runs the verified domains, the external users' list
// and its export (extusers.Service).
type ExternalUsersService interface {
	Domains(ctx context.Context, c domain.Caller, orgID string) (extusers.DomainList, error)
	AddDomain(ctx context.Context, c domain.Caller, orgID, raw string) (domain.DomainClaim, bool, error)
	CheckDomain(ctx context.Context, c domain.Caller, orgID, raw string) (domain.DomainClaim, error)
	RemoveDomain(ctx context.Context, c domain.Caller, orgID, raw string) (extusers.DomainList, error)
	List(ctx context.Context, c domain.Caller, orgID string, q extusers.Query) (domain.Page[extusers.Entry], error)
	ExportNow(ctx context.Context, c domain.Caller, orgID string, f domain.ExternalFilter) (extusers.Export, error)
	CreateExport(ctx context.Context, c domain.Caller, orgID string, f domain.ExternalFilter) (domain.ExportJob, error)
	Job(ctx context.Context, c domain.Caller, orgID, id string) (domain.ExportJob, error)
	Part(ctx context.Context, c domain.Caller, orgID, id string, part int) (string, domain.ExportJob, error)
}

// ExternalUsersHandler serves the external users' routes (ExternalUsersFunction).
type ExternalUsersHandler struct {
	Service ExternalUsersService
	Log     *slog.Logger
}

// The routes ExternalUsersHandler serves, as template.yaml names them.
const (
	RouteDomains         = "/orgs/{orgId}/domains"
	RouteDomain          = "/orgs/{orgId}/domains/{domain}"
	RouteDomainCheck     = "/orgs/{orgId}/domains/{domain}/check"
	RouteExternalUsers   = "/orgs/{orgId}/external-users"
	RouteExternalExport  = "/orgs/{orgId}/external-users/export"
	RouteExternalExports = "/orgs/{orgId}/external-users/exports"
	RouteExternalJob     = "/orgs/{orgId}/external-users/exports/{exportId}"
	RouteExternalJobCSV  = "/orgs/{orgId}/external-users/exports/{exportId}/csv"
)

// Handle implements the Lambda handler.
func (h ExternalUsersHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpapi.Routes{
		http.MethodGet + " " + RouteDomains:          httpapi.Serve(h.Log, h.domains),
		http.MethodPut + " " + RouteDomain:           httpapi.Serve(h.Log, h.addDomain),
		http.MethodDelete + " " + RouteDomain:        httpapi.Serve(h.Log, h.removeDomain),
		http.MethodPost + " " + RouteDomainCheck:     httpapi.Serve(h.Log, h.checkDomain),
		http.MethodGet + " " + RouteExternalUsers:    httpapi.Serve(h.Log, h.list),
		http.MethodGet + " " + RouteExternalExport:   h.csv(h.exportNow),
		http.MethodPost + " " + RouteExternalExports: httpapi.Serve(h.Log, h.createExport),
		http.MethodGet + " " + RouteExternalJob:      httpapi.Serve(h.Log, h.job),
		http.MethodGet + " " + RouteExternalJobCSV:   h.csv(h.part),
	}.Handle(ctx, req)
}

// DomainsJSON is an org's domains: the verified ones (whose users are
// internal) and every domain with its proof.
type DomainsJSON struct {
	Domains []string     `json:"domains"`
	Entries []DomainJSON `json:"entries"`
}

// RecordJSON is the DNS record that proves a domain.
type RecordJSON struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// DomainJSON is one domain with its proof.
type DomainJSON struct {
	Domain string `json:"domain"`
	// Status is pending, verified, lapsing or unverified.
	Status string `json:"status"`
	// Record is absent for a domain verified before proofs were asked.
	Record       *RecordJSON `json:"record,omitempty"`
	CreatedAt    string      `json:"createdAt,omitempty"`
	CheckedAt    string      `json:"checkedAt,omitempty"`
	VerifiedAt   string      `json:"verifiedAt,omitempty"`
	LapsingSince string      `json:"lapsingSince,omitempty"`
	NextCheckAt  string      `json:"nextCheckAt,omitempty"`
}

func domainJSON(c domain.DomainClaim) DomainJSON {
	out := DomainJSON{Domain: c.Domain, Status: string(c.Status), CreatedAt: timeText(c.CreatedAt), CheckedAt: timeText(c.CheckedAt),
		VerifiedAt: timeText(c.VerifiedAt), LapsingSince: timeText(c.LapsingSince), NextCheckAt: timeText(c.NextCheck)}
	if c.Token != "" {
		out.Record = &RecordJSON{Name: domain.ChallengeName(c.Domain), Type: "TXT", Value: c.ChallengeValue()}
	}
	return out
}

func domainsJSON(l extusers.DomainList) DomainsJSON {
	out := DomainsJSON{Domains: httpapi.NonNil(l.Verified), Entries: make([]DomainJSON, 0, len(l.Claims))}
	for _, c := range l.Claims {
		out.Entries = append(out.Entries, domainJSON(c))
	}
	return out
}

func (h ExternalUsersHandler) domains(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	l, err := h.Service.Domains(ctx, c.Caller, c.Param("orgId"))
	return httpapi.Reply{Status: http.StatusOK, Body: domainsJSON(l)}, err
}

func (h ExternalUsersHandler) addDomain(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	cl, _, err := h.Service.AddDomain(ctx, c.Caller, c.Param("orgId"), c.Param("domain"))
	return httpapi.Reply{Status: http.StatusOK, Body: domainJSON(cl)}, err
}

func (h ExternalUsersHandler) checkDomain(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	cl, err := h.Service.CheckDomain(ctx, c.Caller, c.Param("orgId"), c.Param("domain"))
	return httpapi.Reply{Status: http.StatusOK, Body: domainJSON(cl)}, err
}

func (h ExternalUsersHandler) removeDomain(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	l, err := h.Service.RemoveDomain(ctx, c.Caller, c.Param("orgId"), c.Param("domain"))
	return httpapi.Reply{Status: http.StatusOK, Body: domainsJSON(l)}, err
}

// RoleJSON is an effective role on one product of one site.
type RoleJSON struct {
	Site    string `json:"site"`
	Product string `json:"product"`
	Role    string `json:"role"`
}

// SiteSpaceJSON is a Confluence guest's space on a site.
type SiteSpaceJSON struct {
	Site  string `json:"site"`
	Space string `json:"space"`
}

// VerificationJSON is a user's verification under the policy now.
type VerificationJSON struct {
	// State is not_required, verified or required.
	State string `json:"state"`
	// DueAt is when a verification in force lapses (absent: never).
	DueAt string `json:"dueAt,omitempty"`
}

// ExternalUserJSON is one external user.
type ExternalUserJSON struct {
	AccountID    string           `json:"accountId"`
	Email        string           `json:"email"`
	DisplayName  string           `json:"displayName,omitempty"`
	Status       string           `json:"status"`
	LastActive   string           `json:"lastActive,omitempty"`
	Roles        []RoleJSON       `json:"roles"`
	Spaces       []SiteSpaceJSON  `json:"spaces"`
	Billable     bool             `json:"billable"`
	Verification VerificationJSON `json:"verification"`
}

// ExternalUsersJSON is a page of external users.
type ExternalUsersJSON struct {
	Users []ExternalUserJSON `json:"users"`
	Next  string             `json:"next,omitempty"`
}

// timeText is a time as RFC 3339 in UTC, "" for none.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func filterOf(req events.APIGatewayProxyRequest) (domain.ExternalFilter, error) {
	qs := req.QueryStringParameters
	for _, f := range []string{"domain", "status", "verification"} {
		if v, ok := qs[f]; ok && v == "" {
			return domain.ExternalFilter{}, &domain.Error{Code: domain.EINVALID, Message: "A filter is empty.", Fields: map[string]string{f: "must not be empty"}}
		}
	}
	return extusers.ParseFilter(qs["domain"], qs["status"], qs["verification"])
}

func (h ExternalUsersHandler) list(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	limit, cursor, err := httpapi.PageParams(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	f, err := filterOf(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	page, err := h.Service.List(ctx, c.Caller, c.Param("orgId"), extusers.Query{Filter: f, Limit: limit, Cursor: cursor})
	out := ExternalUsersJSON{Users: make([]ExternalUserJSON, 0, len(page.Items)), Next: page.Next}
	for _, e := range page.Items {
		u := ExternalUserJSON{AccountID: e.User.AccountID, Email: e.User.Email, DisplayName: e.User.DisplayName, Status: string(e.User.Status),
			LastActive: timeText(e.User.LastActive), Roles: []RoleJSON{}, Spaces: []SiteSpaceJSON{}, Billable: e.Billable,
			Verification: VerificationJSON{State: e.Verification.State, DueAt: timeText(e.Verification.DueAt)}}
		for _, r := range e.Roles {
			u.Roles = append(u.Roles, RoleJSON{Site: r.Site, Product: string(r.Product), Role: string(r.Role)})
		}
		for _, sp := range e.Spaces {
			u.Spaces = append(u.Spaces, SiteSpaceJSON{Site: sp.Site, Space: sp.Space})
		}
		out.Users = append(out.Users, u)
	}
	return httpapi.Reply{Status: http.StatusOK, Body: out}, err
}

// ExportJobJSON is an export job's status and progress.
type ExportJobJSON struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	CreatedBy string `json:"createdBy"`
	CreatedAt string `json:"createdAt"`
	ExpiresAt string `json:"expiresAt"`
	Pages     int    `json:"pages"`
	Rows      int    `json:"rows"`
	// Parts is how many parts the CSV downloads in (?part=1..parts).
	Parts int    `json:"parts"`
	Error string `json:"error,omitempty"`
	// Status is where to ask again; CSV where to download once done.
	StatusURL string `json:"statusUrl"`
	CSVURL    string `json:"csvUrl,omitempty"`
}

func jobJSON(j domain.ExportJob) ExportJobJSON {
	base := "/orgs/" + j.OrgID + "/external-users/exports/" + j.ID
	out := ExportJobJSON{ID: j.ID, Status: string(j.Status), CreatedBy: j.CreatedBy, CreatedAt: timeText(j.CreatedAt), ExpiresAt: timeText(j.ExpiresAt),
		Pages: j.Pages, Rows: j.Rows, Parts: j.Parts, Error: j.Error, StatusURL: base}
	if j.Status == domain.ExportDone {
		out.CSVURL = base + "/csv"
	}
	return out
}

func (h ExternalUsersHandler) createExport(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	f, err := filterOf(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	j, err := h.Service.CreateExport(ctx, c.Caller, c.Param("orgId"), f)
	return httpapi.Reply{Status: http.StatusAccepted, Body: jobJSON(j), Headers: map[string]string{"Location": jobJSON(j).StatusURL}}, err
}

func (h ExternalUsersHandler) job(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	j, err := h.Service.Job(ctx, c.Caller, c.Param("orgId"), c.Param("exportId"))
	return httpapi.Reply{Status: http.StatusOK, Body: jobJSON(j)}, err
}

// csvAnswer is a CSV body, or a JSON reply (a job answered instead).
type csvAnswer struct {
	body     string
	filename string
	headers  map[string]string
	reply    *httpapi.Reply
}

// csv adapts an action answering CSV: the caller is verified as by Serve
// (401, 403 for a product's token), errors are problems, the body is
// text/csv with a download name.
func (h ExternalUsersHandler) csv(a func(ctx context.Context, c httpapi.Call) (csvAnswer, error)) httpapi.Handler {
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		c, err := httpapi.CallerOf(req)
		if err != nil {
			return httpapi.Error(ctx, h.Log, err, req), nil
		}
		out, err := a(ctx, httpapi.Call{Caller: c, Req: req})
		if err != nil {
			return httpapi.Error(ctx, h.Log, err, req), nil
		}
		if out.reply != nil {
			resp := httpapi.JSON(out.reply.Status, out.reply.Body)
			for k, v := range out.reply.Headers {
				resp.Headers[k] = v
			}
			return resp, nil
		}
		hs := httpapi.Headers("text/csv; charset=utf-8")
		hs["Content-Disposition"] = `attachment; filename="` + out.filename + `"`
		for k, v := range out.headers {
			hs[k] = v
		}
		return events.APIGatewayProxyResponse{StatusCode: http.StatusOK, Headers: hs, Body: out.body}, nil
	}
}

func (h ExternalUsersHandler) exportNow(ctx context.Context, c httpapi.Call) (csvAnswer, error) {
	f, err := filterOf(c.Req)
	if err != nil {
		return csvAnswer{}, err
	}
	ex, err := h.Service.ExportNow(ctx, c.Caller, c.Param("orgId"), f)
	if err != nil {
		return csvAnswer{}, err
	}
	if ex.Job != nil {
		j := jobJSON(*ex.Job)
		return csvAnswer{reply: &httpapi.Reply{Status: http.StatusAccepted, Body: j, Headers: map[string]string{"Location": j.StatusURL}}}, nil
	}
	return csvAnswer{body: ex.CSV, filename: "external-users-" + c.Param("orgId") + ".csv"}, nil
}

func (h ExternalUsersHandler) part(ctx context.Context, c httpapi.Call) (csvAnswer, error) {
	part := 1
	if v, ok := c.Req.QueryStringParameters["part"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return csvAnswer{}, &domain.Error{Code: domain.EINVALID, Message: "The part is not valid.", Fields: map[string]string{"part": "an integer from 1"}}
		}
		part = n
	}
	body, j, err := h.Service.Part(ctx, c.Caller, c.Param("orgId"), c.Param("exportId"), part)
	if err != nil {
		return csvAnswer{}, err
	}
	hs := map[string]string{"X-Export-Parts": strconv.Itoa(j.Parts)}
	if part < j.Parts {
		hs["Link"] = fmt.Sprintf(`<%s/csv?part=%d>; rel="next"`, jobJSON(j).StatusURL, part+1)
	}
	name := "external-users-" + j.ID + ".csv"
	if j.Parts > 1 {
		name = fmt.Sprintf("external-users-%s-part%d.csv", j.ID, part)
	}
	return csvAnswer{body: body, filename: name, headers: hs}, nil
}
