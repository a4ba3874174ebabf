package apidoc

import (
	"context"
	"regexp"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestNameSchemasSayWhatIsRefused: every name the API accepts (a group's,
// a space's, an API token's label, the groups an invite names) carries the
// domain's NamePattern, so the document says which characters are refused,
// and the pattern, as kin-openapi compiles it, refuses exactly the
// domain's Invisible characters of the Basic Multilingual Plane.
func TestNameSchemasSayWhatIsRefused(t *testing.T) {
	doc, err := Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	body := func(path, method string) *openapi3.Schema {
		op := doc.Paths.Find(path).GetOperation(method)
		return op.RequestBody.Value.Content["application/json"].Schema.Value
	}
	s := doc.Components.Schemas
	names := map[string]*openapi3.Schema{
		"GroupName":               s["GroupName"].Value,
		"CreateSpaceRequest.name": s["CreateSpaceRequest"].Value.Properties["name"].Value,
		"UpdateSpaceRequest.name": s["UpdateSpaceRequest"].Value.Properties["name"].Value,
		"InviteRequest.groups[]":  s["InviteRequest"].Value.Properties["groups"].Value.Items.Value,
		"createApiToken label":    body("/orgs/{orgId}/users/{accountId}/api-tokens", "POST").Properties["label"].Value,
		"CreateGroupRequest.name": s["CreateGroupRequest"].Value.Properties["name"].Value,
		"RenameGroupRequest.name": s["RenameGroupRequest"].Value.Properties["name"].Value,
	}
	want := domain.NamePattern()
	for where, sc := range names {
		if sc.Pattern != want {
			t.Errorf("%s: pattern %q, want %q", where, sc.Pattern, want)
		}
	}
	if p := s["InviteRequest"].Value.Properties["message"].Value.Pattern; p != "" {
		t.Errorf("the message is free text (neutralised when shown), yet has a pattern %q", p)
	}
	// The pattern as a validator reads it (kin-openapi turns \uXXXX into
	// \x{XXXX} for Go's regexp).
	re := regexp.MustCompile(regexp.MustCompile(`\\u([0-9A-F]{4})`).ReplaceAllString(want, `\x{$1}`))
	for r := rune(0); r <= 0xFFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		if re.MatchString("a"+string(r)+"b") == domain.Invisible(r) {
			t.Errorf("U+%04X: the pattern and domain.Invisible disagree", r)
		}
	}
	if !re.MatchString("Partners — Ünïcödé 名前 ❤") || re.MatchString("adm\u202enimda") {
		t.Error("the pattern refuses a plain name or accepts an override")
	}
}
