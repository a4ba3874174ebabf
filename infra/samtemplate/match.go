package samtemplate

import "strings"

// Segment ranks, higher is more specific.
const (
	rankGreedy  = iota // {proxy+}
	rankParam          // {orgId}
	rankLiteral        // sites
)

// Match finds the route for a concrete request, the way API Gateway does:
// path is a request path without query string, e.g.
// /orgs/o1/sites/s1/invitations. A {name} segment of a template path matches
// one non-empty segment, a {name+} segment the (non-empty) rest of the path,
// and a trailing slash is ignored (/x/ is /x). When several routes match, the
// one whose segments are more specific from left to right wins (literal over
// {param} over {greedy+}), then a route of the exact method over one with
// ANY. Method is compared case-insensitively. It returns the path parameters
// by name (an empty map when there are none); ok is false when no route
// matches both method and path — [MatchPath] then tells "method not allowed"
// from "not found".
func Match(routes []Route, method, path string) (route Route, params map[string]string, ok bool) {
	method = strings.ToUpper(method)
	var bestRank []int
	bestExact := false
	for _, r := range routes {
		exact := r.Method == method
		if !exact && r.Method != "ANY" {
			continue
		}
		p, rank, matched := matchPath(r.Path, path)
		if !matched {
			continue
		}
		c := compareRank(rank, bestRank)
		if !ok || c > 0 || (c == 0 && exact && !bestExact) {
			route, params, ok, bestRank, bestExact = r, p, true, rank, exact
		}
	}
	return route, params, ok
}

// MatchPath returns every route whose path matches path, whatever its
// method, in the order of routes. A request with no [Match] but a non-empty
// MatchPath is a "405 Method Not Allowed"; the methods to allow are those of
// the returned routes.
func MatchPath(routes []Route, path string) []Route {
	var out []Route
	for _, r := range routes {
		if _, _, ok := matchPath(r.Path, path); ok {
			out = append(out, r)
		}
	}
	return out
}

// segments splits a path into its segments, ignoring leading and trailing
// slashes.
func segments(p string) []string {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// paramName returns the name inside a {name} or {name+} segment.
func paramName(seg string) (name string, greedy, ok bool) {
	if len(seg) < 3 || seg[0] != '{' || seg[len(seg)-1] != '}' {
		return "", false, false
	}
	name = seg[1 : len(seg)-1]
	if strings.HasSuffix(name, "+") {
		name, greedy = strings.TrimSuffix(name, "+"), true
	}
	return name, greedy, name != ""
}

// matchPath matches a request path against a template path, returning the
// path parameters and the rank of each template segment.
func matchPath(tpl, req string) (map[string]string, []int, bool) {
	ts, rs := segments(tpl), segments(req)
	params := map[string]string{}
	rank := make([]int, 0, len(ts))
	for i, t := range ts {
		if i >= len(rs) {
			return nil, nil, false
		}
		name, greedy, isParam := paramName(t)
		switch {
		case isParam && greedy:
			rest := strings.Join(rs[i:], "/")
			if rest == "" {
				return nil, nil, false
			}
			params[name] = rest
			return params, append(rank, rankGreedy), true
		case isParam:
			if rs[i] == "" {
				return nil, nil, false
			}
			params[name] = rs[i]
			rank = append(rank, rankParam)
		default:
			if t != rs[i] {
				return nil, nil, false
			}
			rank = append(rank, rankLiteral)
		}
	}
	if len(rs) != len(ts) {
		return nil, nil, false
	}
	return params, rank, true
}

// compareRank compares segment ranks left to right: >0 when a is more
// specific than b.
func compareRank(a, b []int) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] - b[i]
		}
	}
	return len(a) - len(b)
}
