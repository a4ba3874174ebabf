package apidoc

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestNameSchemasSayWhatIsRefused: every name the API accepts (a group's,
// a space's, an API token's label, the groups an invite names) carries the
// domain's NamePattern and CheckName's lengths (minLength 1, maxLength its
// max), so the document says which characters are refused; the pattern, as
// kin-openapi compiles it, refuses exactly the domain's Invisible
// characters of the Basic Multilingual Plane and the names that are only
// spaces, as CheckName does.
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
	// Each name with the most characters the server takes (as given).
	names := map[string]struct {
		schema *openapi3.Schema
		max    int
	}{
		"GroupName":               {s["GroupName"].Value, domain.MaxGroupName},
		"CreateSpaceRequest.name": {s["CreateSpaceRequest"].Value.Properties["name"].Value, domain.MaxSpaceName},
		"UpdateSpaceRequest.name": {s["UpdateSpaceRequest"].Value.Properties["name"].Value, domain.MaxSpaceName},
		"InviteRequest.groups[]":  {s["InviteRequest"].Value.Properties["groups"].Value.Items.Value, domain.MaxGroupName},
		"createApiToken label":    {body("/orgs/{orgId}/users/{accountId}/api-tokens", "POST").Properties["label"].Value, domain.MaxAPITokenLabel},
		"CreateGroupRequest.name": {s["CreateGroupRequest"].Value.Properties["name"].Value, domain.MaxGroupName},
		"RenameGroupRequest.name": {s["RenameGroupRequest"].Value.Properties["name"].Value, domain.MaxGroupName},
	}
	want := domain.NamePattern()
	for where, n := range names {
		sc := n.schema
		if sc.Pattern != want {
			t.Errorf("%s: pattern %q, want %q", where, sc.Pattern, want)
		}
		if sc.MinLength != 1 || sc.MaxLength == nil || *sc.MaxLength != uint64(n.max) {
			t.Errorf("%s: minLength %d, maxLength %v; want 1 and %d (CheckName's count, of the characters as given)", where, sc.MinLength, sc.MaxLength, n.max)
		}
	}
	// The personal message is free text (neutralised when shown): its
	// pattern refuses control characters only, as ValidateInvite does,
	// and its maxLength counts the characters as given.
	msg := s["InviteRequest"].Value.Properties["message"].Value
	if msg.Pattern != domain.MessagePattern() || msg.MaxLength == nil || *msg.MaxLength != domain.MaxMessageLength {
		t.Errorf("message: pattern %q, maxLength %v; want %q and %d", msg.Pattern, msg.MaxLength, domain.MessagePattern(), domain.MaxMessageLength)
	}
	msgRE := regexp.MustCompile(regexp.MustCompile(`\\u([0-9A-F]{4})`).ReplaceAllString(msg.Pattern, `\x{$1}`))
	guest := map[string]domain.ProductInput{"confluence": {Role: "guest"}}
	for r := rune(0); r <= 0xFFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		for _, m := range []string{string(r), "Hi" + string(r) + "there"} {
			_, err := domain.ValidateInvite(domain.InviteInput{Emails: []string{"a@b.example"}, Products: guest, Message: m})
			if msgRE.MatchString(m) != (err == nil) {
				t.Errorf("message %+q: the pattern matches %v, the server says %v", m, msgRE.MatchString(m), err)
			}
		}
	}
	for _, m := range []string{strings.Repeat("x", domain.MaxMessageLength) + " ", strings.Repeat("\r\n", domain.MaxMessageLength/2+1)} {
		if _, err := domain.ValidateInvite(domain.InviteInput{Emails: []string{"a@b.example"}, Products: guest, Message: m}); err == nil {
			t.Errorf("a message of %d characters (over the document's maxLength) is accepted", len([]rune(m)))
		}
	}
	if _, err := domain.ValidateInvite(domain.InviteInput{Emails: []string{"a@b.example"}, Products: guest, Message: strings.Repeat("é", domain.MaxMessageLength)}); err != nil {
		t.Errorf("a message of %d characters: %v", domain.MaxMessageLength, err)
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
		// Alone, between spaces, or only spaces around: the pattern takes
		// what CheckName takes (a space alone is a blank name, refused).
		for _, name := range []string{string(r), " " + string(r) + "\u3000", string(r) + string(r), "\u00a0" + string(r)} {
			_, err := domain.CheckName("name", name, 10)
			if re.MatchString(name) != (err == nil) {
				t.Errorf("%+q: the pattern matches %v, CheckName says %v", name, re.MatchString(name), err)
			}
		}
	}
	if !re.MatchString("Partners — Ünïcödé 名前 ❤") || re.MatchString("adm\u202enimda") {
		t.Error("the pattern refuses a plain name or accepts an override")
	}
}
