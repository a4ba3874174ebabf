package httpapi

import "github.com/aws/aws-lambda-go/events"

// PageParams reads a list's ?limit= (1..MaxPageSize, default
// DefaultPageSize) and ?cursor= (opaque; the store refuses one it did not
// give), for the handlers outside this package.
func PageParams(req events.APIGatewayProxyRequest) (limit int, cursor string, err error) {
	return pageParams(req)
}

// nonNil is s, or an empty list for nil (a JSON [] rather than null).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
