package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// JobService runs group fan-out jobs (fanout.Service).
type JobService interface {
	SetGroupRole(ctx context.Context, c domain.Caller, orgID, groupID, siteID, product, role string) (domain.Job, error)
	DeleteGroup(ctx context.Context, c domain.Caller, orgID, groupID string) (domain.Job, error)
	Job(ctx context.Context, c domain.Caller, orgID, id string) (domain.Job, error)
}

// JobsHandler serves the routes that start and show group jobs:
// PUT /orgs/{orgId}/groups/{groupId}/roles/{siteId}/{product},
// DELETE /orgs/{orgId}/groups/{groupId} and GET /orgs/{orgId}/jobs/{jobId}.
type JobsHandler struct {
	Service JobService
	Log     *slog.Logger
}

type groupRoleRequest struct {
	Role string `json:"role"`
}

// JobResponse is a job as the API shows it.
type JobResponse struct {
	ID          string           `json:"id"`
	Kind        string           `json:"kind"`
	GroupID     string           `json:"groupId"`
	Site        string           `json:"site,omitempty"`
	Product     string           `json:"product,omitempty"`
	Role        string           `json:"role,omitempty"`
	State       string           `json:"state"`
	Members     int              `json:"members"`
	Changed     int              `json:"changed"`
	Done        int              `json:"done"`
	Pages       int              `json:"pages"`
	PagesDone   int              `json:"pagesDone"`
	PagesFailed int              `json:"pagesFailed"`
	Reserved    map[string]int64 `json:"reservedGuestSlots,omitempty"`
	Conversions []ConversionJSON `json:"conversions"`
	Message     string           `json:"message,omitempty"`
	CreatedAt   string           `json:"createdAt"`
	UpdatedAt   string           `json:"updatedAt,omitempty"`
}

// MaxJobConversions caps the conversions a job's answer lists; the count
// of all of them is in changed.
const MaxJobConversions = 1000

// JobResponseOf converts a job.
func JobResponseOf(j domain.Job) JobResponse {
	out := JobResponse{ID: j.ID, Kind: string(j.Kind), GroupID: j.GroupID, Site: j.Site, Product: string(j.Product), Role: string(j.Role),
		State: string(j.State), Members: j.Members, Changed: j.Changed, Done: j.Done, Pages: j.Pages, PagesDone: j.PagesDone,
		PagesFailed: j.PagesFailed, Message: j.Message, Conversions: []ConversionJSON{}, CreatedAt: j.CreatedAt.UTC().Format(time.RFC3339)}
	if len(j.Reserved) > 0 {
		out.Reserved = j.Reserved
	}
	if !j.UpdatedAt.IsZero() {
		out.UpdatedAt = j.UpdatedAt.UTC().Format(time.RFC3339)
	}
	for i, c := range j.Conversions {
		if i == MaxJobConversions {
			break
		}
		why := c.Why
		if why == nil {
			why = []string{}
		}
		out.Conversions = append(out.Conversions, ConversionJSON{AccountID: c.AccountID, Email: c.Email, Site: c.SiteID, From: string(c.From), To: string(c.To), Why: why})
	}
	return out
}

// Handle implements the Lambda handler.
func (h JobsHandler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	caller := CallerID(req)
	if caller == "" {
		return Error(ctx, h.Log, domain.Errorf(domain.EUNAUTHORIZED, "A valid bearer token is required."), req), nil
	}
	c := domain.Caller{AccountID: caller, RequestID: req.RequestContext.RequestID}
	pp := req.PathParameters
	var j domain.Job
	var err error
	switch {
	case req.HTTPMethod == http.MethodGet && req.Resource == RouteJob:
		j, err = h.Service.Job(ctx, c, pp["orgId"], pp["jobId"])
		if err != nil {
			return Error(ctx, h.Log, err, req), nil
		}
		return JSON(http.StatusOK, JobResponseOf(j)), nil
	case req.HTTPMethod == http.MethodPut && req.Resource == RouteGroupRole:
		var in groupRoleRequest
		if err := DecodeJSON(req, MaxJSONBody, &in); err != nil {
			return Error(ctx, h.Log, err, req), nil
		}
		j, err = h.Service.SetGroupRole(ctx, c, pp["orgId"], pp["groupId"], pp["siteId"], pp["product"], in.Role)
	case req.HTTPMethod == http.MethodDelete && req.Resource == RouteGroup:
		j, err = h.Service.DeleteGroup(ctx, c, pp["orgId"], pp["groupId"])
	default:
		return Error(ctx, h.Log, domain.Errorf(domain.ENOTFOUND, "No such route."), req), nil
	}
	if err != nil {
		return Error(ctx, h.Log, err, req), nil
	}
	// A small group is done before the answer (200); a large one answers
	// 202 with the job to follow.
	status := http.StatusAccepted
	if domain.JobState(j.State).Finished() {
		status = http.StatusOK
	}
	resp := JSON(status, JobResponseOf(j))
	resp.Headers["Location"] = "/orgs/" + j.OrgID + "/jobs/" + j.ID
	return resp, nil
}
