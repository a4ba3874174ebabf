package httpapi

// nonNil is s, or an empty list for nil (a JSON [] rather than null).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
