package httpapi

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/guestaccess/guestaccess/shared/domain"
)

func TestPageParams(t *testing.T) {
	for _, c := range []struct {
		query  map[string]string
		limit  int
		cursor string
		field  string
	}{
		{nil, DefaultPageSize, "", ""},
		{map[string]string{"limit": "1"}, 1, "", ""},
		{map[string]string{"limit": "100", "cursor": "abc"}, 100, "abc", ""},
		{map[string]string{"limit": "0"}, 0, "", "limit"},
		{map[string]string{"limit": "101"}, 0, "", "limit"},
		{map[string]string{"limit": "-1"}, 0, "", "limit"},
		{map[string]string{"limit": "ten"}, 0, "", "limit"},
		{map[string]string{"limit": ""}, 0, "", "limit"},
		{map[string]string{"cursor": ""}, 0, "", "cursor"},
		{map[string]string{"cursor": strings.Repeat("a", MaxCursor+1)}, 0, "", "cursor"},
	} {
		limit, cursor, err := pageParams(events.APIGatewayProxyRequest{QueryStringParameters: c.query})
		if c.field != "" {
			e, ok := err.(*domain.Error)
			if !ok || e.Code != domain.EINVALID || e.Fields[c.field] == "" {
				t.Errorf("%v: err = %v, want EINVALID on %s", c.query, err, c.field)
			}
			continue
		}
		if err != nil || limit != c.limit || cursor != c.cursor {
			t.Errorf("%v: %d %q %v", c.query, limit, cursor, err)
		}
	}
}
