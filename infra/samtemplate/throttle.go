package samtemplate

import (
	"fmt"
	"strconv"
	"strings"
)

// MethodThrottle is one of an API's MethodSettings that throttles: API
// Gateway passes at most Rate requests a second (a token bucket of Burst)
// to the method(s) of one resource path, all clients together, and answers
// the rest THROTTLED (429).
type MethodThrottle struct {
	// Path is the resource path as routes name it (/orgs/{orgId}/verify),
	// decoded from MethodSettings' "/~1orgs~1{orgId}~1verify".
	Path string
	// Method is the HTTP method, or "*" for every method of the path.
	Method string
	// Rate is requests a second; Burst the bucket's size.
	Rate, Burst float64
}

// MethodThrottles returns the throttling MethodSettings of the
// AWS::Serverless::Api apiID, with !Ref to a parameter resolved to its
// default (a deployment may override it; the local gateway uses the
// defaults). A setting with neither limit is skipped.
func (t *Template) MethodThrottles(apiID string) ([]MethodThrottle, error) {
	api := t.resources[apiID]
	if api == nil {
		return nil, fmt.Errorf("samtemplate: no resource %s", apiID)
	}
	defaults := t.ParameterDefaults()
	number := func(setting int, key string) (float64, bool, error) {
		n := at(seq(at(api, "Properties", "MethodSettings"))[setting], key)
		if n == nil {
			return 0, false, nil
		}
		v, ok := literal(n)
		if in, isRef := intrinsic(n); isRef {
			if in.Fn != "Ref" {
				return 0, false, fmt.Errorf("samtemplate: %s MethodSettings[%d].%s: %s is not a number or a !Ref to a parameter", apiID, setting, key, in)
			}
			v, ok = defaults[in.Arg]
		}
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return 0, false, fmt.Errorf("samtemplate: %s MethodSettings[%d].%s: %q is not a number", apiID, setting, key, v)
		}
		return f, true, nil
	}
	var out []MethodThrottle
	for i, s := range seq(at(api, "Properties", "MethodSettings")) {
		rate, hasRate, err := number(i, "ThrottlingRateLimit")
		if err != nil {
			return nil, err
		}
		burst, hasBurst, err := number(i, "ThrottlingBurstLimit")
		if err != nil {
			return nil, err
		}
		if !hasRate && !hasBurst {
			continue
		}
		path, method := str(get(s, "ResourcePath")), str(get(s, "HttpMethod"))
		if !strings.HasPrefix(path, "/") || method == "" {
			return nil, fmt.Errorf("samtemplate: %s MethodSettings[%d]: ResourcePath %q, HttpMethod %q", apiID, i, path, method)
		}
		if path != "/*" {
			path = strings.ReplaceAll(strings.ReplaceAll(path, "~1", "/"), "~0", "~")
			path = "/" + strings.TrimLeft(path, "/")
		}
		out = append(out, MethodThrottle{Path: path, Method: method, Rate: rate, Burst: burst})
	}
	return out, nil
}
