package samtemplate

import "strings"

// Match finds the route for a concrete request: template path segments like
// {orgId} match one segment, {proxy+} the rest; literal segments win over
// parameters. It returns the path parameters.
func Match(routes []Route, method, reqPath string) (Route, map[string]string, bool) {
	var best Route
	var bestParams map[string]string
	bestScore := -1
	for _, r := range routes {
		if r.Method != strings.ToUpper(method) && r.Method != "ANY" {
			continue
		}
		params, score, ok := matchPath(r.Path, reqPath)
		if ok && score > bestScore {
			best, bestParams, bestScore = r, params, score
		}
	}
	return best, bestParams, bestScore >= 0
}

// MatchPath returns every route whose path matches, whatever its method.
func MatchPath(routes []Route, reqPath string) []Route {
	var out []Route
	for _, r := range routes {
		if _, _, ok := matchPath(r.Path, reqPath); ok {
			out = append(out, r)
		}
	}
	return out
}

func segments(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchPath scores a match by its number of literal segments.
func matchPath(tpl, req string) (map[string]string, int, bool) {
	ts, rs := segments(tpl), segments(req)
	params := map[string]string{}
	score := 0
	for i, t := range ts {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "+}") {
			if i >= len(rs) {
				return nil, 0, false
			}
			params[strings.TrimSuffix(strings.TrimPrefix(t, "{"), "+}")] = strings.Join(rs[i:], "/")
			return params, score, true
		}
		if i >= len(rs) {
			return nil, 0, false
		}
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if rs[i] == "" {
				return nil, 0, false
			}
			params[strings.TrimSuffix(strings.TrimPrefix(t, "{"), "}")] = rs[i]
			continue
		}
		if t != rs[i] {
			return nil, 0, false
		}
		score++
	}
	if len(rs) != len(ts) {
		return nil, 0, false
	}
	return params, score, true
}
