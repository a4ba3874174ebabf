package extpolicyapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/extpolicy"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

// PolicyService runs an org's external user policy (extpolicy.Service).
type PolicyService interface {
	Get(ctx context.Context, c domain.Caller, orgID string) (extpolicy.View, error)
	SetPolicy(ctx context.Context, c domain.Caller, orgID string, p domain.PolicySettings, version *int) (extpolicy.View, error)
	SetTestPolicy(ctx context.Context, c domain.Caller, orgID string, p domain.PolicySettings, ids []string, version *int) (extpolicy.View, error)
	ClearTestPolicy(ctx context.Context, c domain.Caller, orgID string, version *int) (extpolicy.View, error)
	Preview(ctx context.Context, c domain.Caller, orgID string, pr extpolicy.Proposal) (extpolicy.PreviewPage, error)
	ResetSessions(ctx context.Context, c domain.Caller, orgID string) (extpolicy.View, error)
	ResetUserSession(ctx context.Context, c domain.Caller, orgID, accountID string) (domain.User, error)
}

// PolicyHandler serves the external user policy's routes
// (ExternalPolicyFunction): the policy, the test policy, the preview of a
// change and the resets of sessions.
type PolicyHandler struct {
	Service PolicyService
	Log     *slog.Logger
}

// The routes PolicyHandler serves, as template.yaml names them.
const (
	RouteExternalPolicy   = "/orgs/{orgId}/external-policy"
	RouteTestPolicy       = "/orgs/{orgId}/external-policy/test"
	RoutePolicyPreview    = "/orgs/{orgId}/external-policy/preview"
	RouteResetSessions    = "/orgs/{orgId}/external-users/reset-sessions"
	RouteResetUserSession = "/orgs/{orgId}/users/{accountId}/reset-session"
)

// Handle implements the Lambda handler.
func (h PolicyHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpapi.Routes{
		http.MethodGet + " " + RouteExternalPolicy:    httpapi.Serve(h.Log, h.get),
		http.MethodPut + " " + RouteExternalPolicy:    httpapi.Serve(h.Log, h.put),
		http.MethodPut + " " + RouteTestPolicy:        httpapi.Serve(h.Log, h.putTest),
		http.MethodDelete + " " + RouteTestPolicy:     httpapi.Serve(h.Log, h.clearTest),
		http.MethodPost + " " + RoutePolicyPreview:    httpapi.Serve(h.Log, h.preview),
		http.MethodPost + " " + RouteResetSessions:    httpapi.Serve(h.Log, h.resetSessions),
		http.MethodPost + " " + RouteResetUserSession: httpapi.Serve(h.Log, h.resetUser),
	}.Handle(ctx, req)
}

// PolicySettingsJSON is an external user policy: twoStepVerification "on"
// or "off", verifyEvery {"days": 1..30} or "once", apiTokens "allowed" or
// "blocked".
type PolicySettingsJSON struct {
	TwoStepVerification string `json:"twoStepVerification"`
	VerifyEvery         any    `json:"verifyEvery"`
	APITokens           string `json:"apiTokens"`
}

// TestUserJSON is a user a test policy names (email absent when the
// account is gone).
type TestUserJSON struct {
	AccountID string `json:"accountId"`
	Email     string `json:"email,omitempty"`
}

// TestPolicyJSON is the test policy: settings and the users they apply to.
type TestPolicyJSON struct {
	PolicySettingsJSON
	Users []TestUserJSON `json:"users"`
}

// ExternalPolicyJSON is an org's external user policy.
type ExternalPolicyJSON struct {
	Policy     PolicySettingsJSON `json:"policy"`
	TestPolicy *TestPolicyJSON    `json:"testPolicy"`
	// Version counts the changes of the policy, the test policy, the
	// verified domains and resets; a change may name it.
	Version int `json:"version"`
	// SessionsResetAt is the last reset of every external user's sessions.
	SessionsResetAt *string `json:"sessionsResetAt"`
	// Changed, on a change, reports whether anything was written.
	Changed *bool `json:"changed,omitempty"`
}

func settingsJSON(p domain.PolicySettings) PolicySettingsJSON {
	m := extpolicy.SettingsMap(p)
	return PolicySettingsJSON{TwoStepVerification: m["twoStepVerification"].(string), VerifyEvery: m["verifyEvery"], APITokens: m["apiTokens"].(string)}
}

func timeJSON(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func policyJSON(v extpolicy.View, write bool) ExternalPolicyJSON {
	o := v.Org
	out := ExternalPolicyJSON{Policy: settingsJSON(o.Policy), Version: o.PolicyVersion, SessionsResetAt: timeJSON(o.SessionsResetAt)}
	if o.TestPolicy != nil && len(o.TestPolicy.Users) > 0 {
		tp := &TestPolicyJSON{PolicySettingsJSON: settingsJSON(o.TestPolicy.Settings), Users: []TestUserJSON{}}
		for _, id := range o.TestPolicy.Users {
			tp.Users = append(tp.Users, TestUserJSON{AccountID: id, Email: v.TestUsers[id].Email})
		}
		out.TestPolicy = tp
	}
	if write {
		out.Changed = &v.Changed
	}
	return out
}

// policyRequest is the body of the policy's changes and preview: the
// settings (all three required), the version the change was made from
// (optional), and for the test policy (and its preview, test: true) the
// users.
type policyRequest struct {
	TwoStepVerification *string         `json:"twoStepVerification"`
	VerifyEvery         json.RawMessage `json:"verifyEvery"`
	APITokens           *string         `json:"apiTokens"`
	Version             *int            `json:"version"`
	Users               []string        `json:"users"`
	Test                bool            `json:"test"`
}

func (r policyRequest) settings() (domain.PolicySettings, error) {
	var p domain.PolicySettings
	bad := map[string]string{}
	switch {
	case r.TwoStepVerification == nil:
		bad["twoStepVerification"] = "is required: on or off"
	case *r.TwoStepVerification == "on":
		p.TwoStep = true
	case *r.TwoStepVerification != "off":
		bad["twoStepVerification"] = "must be on or off"
	}
	switch {
	case r.APITokens == nil:
		bad["apiTokens"] = "is required: allowed or blocked"
	case *r.APITokens == "blocked":
		p.BlockAPITokens = true
	case *r.APITokens != "allowed":
		bad["apiTokens"] = "must be allowed or blocked"
	}
	var once string
	var every struct {
		Days *int `json:"days"`
	}
	switch v := bytes.TrimSpace(r.VerifyEvery); {
	case len(v) == 0 || string(v) == "null":
		bad["verifyEvery"] = `is required: {"days": 1 to 30} or "once"`
	case json.Unmarshal(v, &once) == nil:
		if once != "once" {
			bad["verifyEvery"] = `must be {"days": 1 to 30} or "once"`
		}
	default:
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if dec.Decode(&every) != nil || every.Days == nil || *every.Days < 1 || *every.Days > domain.MaxVerifyEveryDays {
			bad["verifyEvery"] = `must be {"days": 1 to 30} or "once"`
		} else {
			p.VerifyEveryDays = *every.Days
		}
	}
	if len(bad) > 0 {
		return p, &domain.Error{Code: domain.EINVALID, Message: "The policy is not valid.", Fields: bad}
	}
	return p, nil
}

func (h PolicyHandler) get(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	v, err := h.Service.Get(ctx, c.Caller, c.Param("orgId"))
	if err != nil {
		return httpapi.Reply{}, err
	}
	return httpapi.Reply{Status: http.StatusOK, Body: policyJSON(v, false)}, nil
}

// policyBody reads a change's body; test tells whether it sets the test policy
// (which alone names users).
func policyBody(c httpapi.Call, test bool) (policyRequest, domain.PolicySettings, error) {
	var in policyRequest
	if err := c.Body(&in); err != nil {
		return in, domain.PolicySettings{}, err
	}
	if in.Test {
		return in, domain.PolicySettings{}, &domain.Error{Code: domain.EINVALID, Message: "The request has an unknown field.", Fields: map[string]string{"test": "only the preview takes it"}}
	}
	if !test && in.Users != nil {
		return in, domain.PolicySettings{}, &domain.Error{Code: domain.EINVALID, Message: "The request is not valid.",
			Fields: map[string]string{"users": "the org's policy names no users: set them with PUT " + RouteTestPolicy}}
	}
	p, err := in.settings()
	return in, p, err
}

func (h PolicyHandler) put(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	in, p, err := policyBody(c, false)
	if err != nil {
		return httpapi.Reply{}, err
	}
	v, err := h.Service.SetPolicy(ctx, c.Caller, c.Param("orgId"), p, in.Version)
	if err != nil {
		return httpapi.Reply{}, err
	}
	return httpapi.Reply{Status: http.StatusOK, Body: policyJSON(v, true)}, nil
}

func (h PolicyHandler) putTest(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	in, p, err := policyBody(c, true)
	if err != nil {
		return httpapi.Reply{}, err
	}
	v, err := h.Service.SetTestPolicy(ctx, c.Caller, c.Param("orgId"), p, in.Users, in.Version)
	if err != nil {
		return httpapi.Reply{}, err
	}
	return httpapi.Reply{Status: http.StatusOK, Body: policyJSON(v, true)}, nil
}

// clearRequest is the optional body of DELETE .../external-policy/test.
type clearRequest struct {
	Version *int `json:"version"`
}

func (h PolicyHandler) clearTest(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	var in clearRequest
	if c.Req.Body != "" {
		if err := c.Body(&in); err != nil {
			return httpapi.Reply{}, err
		}
	}
	v, err := h.Service.ClearTestPolicy(ctx, c.Caller, c.Param("orgId"), in.Version)
	if err != nil {
		return httpapi.Reply{}, err
	}
	return httpapi.Reply{Status: http.StatusOK, Body: policyJSON(v, true)}, nil
}

// EffectJSON is one effect of a proposed change on a user: effect (a
// stable name), what it means, by (must_verify: the time from which their
// next access is denied until they verify) or due (verification_lasts_longer:
// when the verification lapses; null for never).
type EffectJSON struct {
	Effect      string  `json:"effect"`
	Description string  `json:"description"`
	By          *string `json:"by,omitempty"`
	Due         *string `json:"due,omitempty"`
}

// AffectedUserJSON is an external user a proposed change affects.
type AffectedUserJSON struct {
	AccountID string       `json:"accountId"`
	Email     string       `json:"email"`
	Status    string       `json:"status"`
	Effects   []EffectJSON `json:"effects"`
}

// PreviewTotalsJSON counts a preview page: the external users examined,
// those affected, those skipped because the test policy names them, and
// the affected by effect.
type PreviewTotalsJSON struct {
	Examined        int            `json:"examined"`
	Affected        int            `json:"affected"`
	UnderTestPolicy int            `json:"underTestPolicy"`
	ByEffect        map[string]int `json:"byEffect"`
}

// PreviewJSON is a page of a proposed change's preview.
type PreviewJSON struct {
	Users  []AffectedUserJSON `json:"users"`
	Totals PreviewTotalsJSON  `json:"totals"`
	// More reports that further pages remain (ask again with cursor=next).
	More bool   `json:"more"`
	Next string `json:"next,omitempty"`
	// Version is the policy version the preview was computed against.
	Version int `json:"version"`
}

// readableTime is a time as a description shows it to an admin: to the
// minute, in UTC (the by and due fields keep the exact time).
func readableTime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }

func effectJSON(e extpolicy.PolicyEffect) EffectJSON {
	out := EffectJSON{Effect: string(e.Kind)}
	switch e.Kind {
	case extpolicy.EffectMustVerify:
		out.By = timeJSON(e.By)
		out.Description = "Must verify by " + readableTime(e.By)
	case extpolicy.EffectVerificationLastsLonger:
		if e.Due.IsZero() {
			out.Description = "Verification no longer lapses"
		} else {
			out.Due = timeJSON(e.Due)
			out.Description = "Verification lasts until " + readableTime(e.Due)
		}
	case extpolicy.EffectVerificationNoLongerRequired:
		out.Description = "Two-step verification no longer required"
	case extpolicy.EffectAPITokensBlocked:
		out.Description = "API tokens stop working"
	case extpolicy.EffectAPITokensAllowed:
		out.Description = "API tokens work again"
	}
	return out
}

func (h PolicyHandler) preview(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	limit, cursor, err := httpapi.PageParams(c.Req)
	if err != nil {
		return httpapi.Reply{}, err
	}
	var in policyRequest
	if err := c.Body(&in); err != nil {
		return httpapi.Reply{}, err
	}
	if in.Version != nil {
		return httpapi.Reply{}, &domain.Error{Code: domain.EINVALID, Message: "The request has an unknown field.", Fields: map[string]string{"version": "a preview is computed against the current version"}}
	}
	p, err := in.settings()
	if err != nil {
		return httpapi.Reply{}, err
	}
	page, err := h.Service.Preview(ctx, c.Caller, c.Param("orgId"), extpolicy.Proposal{Policy: p, Test: in.Test, Users: in.Users, Limit: limit, Cursor: cursor})
	if err != nil {
		return httpapi.Reply{}, err
	}
	out := PreviewJSON{Users: []AffectedUserJSON{}, Totals: PreviewTotalsJSON{Examined: page.Examined, Affected: len(page.Users), UnderTestPolicy: page.UnderTestPolicy,
		ByEffect: map[string]int{}}, More: page.Next != "", Next: page.Next, Version: page.Version}
	for k, n := range page.ByEffect {
		out.Totals.ByEffect[string(k)] = n
	}
	for _, a := range page.Users {
		u := AffectedUserJSON{AccountID: a.User.AccountID, Email: a.User.Email, Status: string(a.User.Status), Effects: []EffectJSON{}}
		for _, e := range a.Effects {
			u.Effects = append(u.Effects, effectJSON(e))
		}
		out.Users = append(out.Users, u)
	}
	return httpapi.Reply{Status: http.StatusOK, Body: out}, nil
}

func (h PolicyHandler) resetSessions(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	v, err := h.Service.ResetSessions(ctx, c.Caller, c.Param("orgId"))
	if err != nil {
		return httpapi.Reply{}, err
	}
	return httpapi.Reply{Status: http.StatusOK, Body: policyJSON(v, true)}, nil
}

// SessionResetJSON is the answer to a reset of one user's sessions.
type SessionResetJSON struct {
	AccountID       string `json:"accountId"`
	Email           string `json:"email"`
	External        bool   `json:"external"`
	SessionsResetAt string `json:"sessionsResetAt"`
}

func (h PolicyHandler) resetUser(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	u, err := h.Service.ResetUserSession(ctx, c.Caller, c.Param("orgId"), c.Param("accountId"))
	if err != nil {
		return httpapi.Reply{}, err
	}
	return httpapi.Reply{Status: http.StatusOK, Body: SessionResetJSON{AccountID: u.AccountID, Email: u.Email, External: u.External,
		SessionsResetAt: u.SessionsResetAt.UTC().Format(time.RFC3339Nano)}}, nil
}
