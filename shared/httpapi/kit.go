package httpapi

// More of the helpers a capability's handlers share with this package's own
// (see capability.go), exported under these names, the same code.

// Headers are the headers of every answer of content type ct (no caching,
// no sniffing); the map is new, the caller may add to it.
func Headers(ct string) map[string]string { return headers(ct) }

// Body decodes a call's JSON body strictly into v (DecodeJSON, at most
// MaxJSONBody bytes).
func (c Call) Body(v any) error { return c.body(v) }
