// Package httpapi adapts API Gateway REST (payload 1.0) events to the
// application services: it decodes requests strictly, reads the caller from the
// authorizer context, and is the one place that turns domain errors into HTTP
// statuses and application/problem+json bodies.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// ProblemBase prefixes every problem type URI.
const ProblemBase = "https://guestaccess.dev/problems/"

// statusOf maps each domain error code to its one HTTP status.
var statusOf = map[string]int{
	domain.EINVALID:      http.StatusBadRequest,
	domain.EUNAUTHORIZED: http.StatusUnauthorized,
	domain.EFORBIDDEN:    http.StatusForbidden,
	domain.ENOTFOUND:     http.StatusNotFound,
	domain.ECONFLICT:     http.StatusConflict,
	domain.ELIMIT:        http.StatusConflict,
	domain.EUSERLIMIT:    http.StatusConflict,
	domain.EREFUSED:      http.StatusUnprocessableEntity,
	domain.EGONE:         http.StatusGone,
	domain.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	domain.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	domain.EUNAVAILABLE:  http.StatusServiceUnavailable,
	domain.ETOOMANY:      http.StatusTooManyRequests,
	domain.EINTERNAL:     http.StatusInternalServerError,
}

// StatusOf returns the HTTP status of a domain error code.
func StatusOf(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Instance  string            `json:"instance,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
	Errors    map[string]string `json:"errors,omitempty"`
	// Extensions are merged into the top level of the document.
	Extensions map[string]any `json:"-"`
}

// MarshalJSON flattens the extensions into the document.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extensions) == 0 {
		return b, err
	}
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	for k, v := range p.Extensions {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// ProblemFor turns an error into a problem document. Internal errors are
// logged with their cause and answered with a generic message.
func ProblemFor(ctx context.Context, log *slog.Logger, err error, requestID string) Problem {
	code := domain.ErrorCode(err)
	status := StatusOf(code)
	p := Problem{Type: ProblemBase + code, Title: http.StatusText(status), Status: status, Detail: domain.ErrorMessage(err), RequestID: requestID}
	if e, ok := err.(*domain.Error); ok {
		p.Errors, p.Extensions = e.Fields, e.Extra
	}
	if code == domain.EINTERNAL {
		log.ErrorContext(ctx, "internal error", "err", err, "requestId", requestID)
		p.Detail = "An internal error occurred. Quote the request id if you report it."
	}
	return p
}

// Error answers a request with the problem for err.
func Error(ctx context.Context, log *slog.Logger, err error, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	p := ProblemFor(ctx, log, err, req.RequestContext.RequestID)
	p.Instance = req.Path
	b, _ := json.Marshal(p)
	h := headers("application/problem+json")
	var e *domain.Error
	if errors.As(err, &e) && (e.Code == domain.EUNAVAILABLE || e.Code == domain.ETOOMANY) {
		secs := int((e.RetryAfter + time.Second - 1) / time.Second)
		h["Retry-After"] = strconv.Itoa(max(1, secs))
	}
	return events.APIGatewayProxyResponse{StatusCode: p.Status, Headers: h, Body: string(b)}
}

// JSON answers with a JSON body.
func JSON(status int, v any) events.APIGatewayProxyResponse {
	b, err := json.Marshal(v)
	if err != nil {
		b, status = []byte(`{"type":"`+ProblemBase+`internal","title":"Internal Server Error","status":500}`), http.StatusInternalServerError
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: headers("application/json"), Body: string(b)}
}

func headers(ct string) map[string]string {
	return map[string]string{"Content-Type": ct, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
}
