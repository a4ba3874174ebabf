package samtemplate

// ParameterPattern returns the literal AllowedPattern of the template
// parameter name, and whether it has one.
func (t *Template) ParameterPattern(name string) (string, bool) {
	p := get(get(t.root, "Parameters"), name)
	if p == nil {
		return "", false
	}
	return literal(get(p, "AllowedPattern"))
}
