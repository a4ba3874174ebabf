package groupsapi

import (
	"context"
	"net/http"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/httpapi"
)

// JobService runs group fan-out jobs (jobs.Service).
type JobService interface {
	SetGroupRole(ctx context.Context, c domain.Caller, orgID, groupID, siteID, product, role string) (domain.Job, error)
	DeleteGroup(ctx context.Context, c domain.Caller, orgID, groupID string) (domain.Job, error)
	Job(ctx context.Context, c domain.Caller, orgID, id string) (domain.Job, error)
}

// JobsHandler serves, within GroupsFunction, the routes that start and
// show group jobs: PUT /orgs/{orgId}/groups/{groupId}/roles/{siteId}/{product},
// DELETE /orgs/{orgId}/groups/{groupId} and GET /orgs/{orgId}/jobs/{jobId}.
type JobsHandler struct {
	Service JobService
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
	// ReservedUsers is the user slots (paid users plus guests) the job
	// reserved per site.
	ReservedUsers map[string]int64 `json:"reservedUserSlots,omitempty"`
	Conversions   []ConversionJSON `json:"conversions"`
	Message       string           `json:"message,omitempty"`
	CreatedAt     string           `json:"createdAt"`
	UpdatedAt     string           `json:"updatedAt,omitempty"`
}

// MaxJobConversions caps the conversions a job's answer lists; the count
// of all of them is in changed.
const MaxJobConversions = 1000

// JobResponseOf converts a job.
func JobResponseOf(j domain.Job) JobResponse {
	out := JobResponse{ID: j.ID, Kind: string(j.Kind), GroupID: j.GroupID, Site: j.Site, Product: string(j.Product), Role: string(j.Role),
		State: string(j.State), Members: j.Members, Changed: j.Changed, Done: j.Done, Pages: j.Pages, PagesDone: j.PagesDone,
		PagesFailed: j.PagesFailed, Message: j.Message, Conversions: []ConversionJSON{}, CreatedAt: j.CreatedAt.UTC().Format(time.RFC3339)}
	if len(j.ReservedUsers) > 0 {
		out.ReservedUsers = j.ReservedUsers
	}
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

func (h JobsHandler) job(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	j, err := h.Service.Job(ctx, c.Caller, c.Param("orgId"), c.Param("jobId"))
	return httpapi.Reply{Status: http.StatusOK, Body: JobResponseOf(j)}, err
}

func (h JobsHandler) setGroupRole(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	var in groupRoleRequest
	if err := httpapi.DecodeJSON(c.Req, httpapi.MaxJSONBody, &in); err != nil {
		return httpapi.Reply{}, err
	}
	return started(h.Service.SetGroupRole(ctx, c.Caller, c.Param("orgId"), c.Param("groupId"), c.Param("siteId"), c.Param("product"), in.Role))
}

func (h JobsHandler) deleteGroup(ctx context.Context, c httpapi.Call) (httpapi.Reply, error) {
	return started(h.Service.DeleteGroup(ctx, c.Caller, c.Param("orgId"), c.Param("groupId")))
}

// started answers a job just started: 200 when a small group is done
// already, else 202; Location is the job's either way.
func started(j domain.Job, err error) (httpapi.Reply, error) {
	status := http.StatusAccepted
	if j.State.Finished() {
		status = http.StatusOK
	}
	return httpapi.Reply{Status: status, Body: JobResponseOf(j), Headers: map[string]string{"Location": "/orgs/" + j.OrgID + "/jobs/" + j.ID}}, err
}
