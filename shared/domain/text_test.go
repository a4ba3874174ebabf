package domain

import (
	"strings"
	"testing"
)

// TestInvisible: the characters the issue found (U+202E, U+200B) and their
// kin are invisible; letters of every script, marks, emoji, symbols and
// plain spaces are not.
func TestInvisible(t *testing.T) {
	for _, r := range []rune{
		0, '\t', '\n', '\r', 0x1b, 0x7f, 0x85, 0x9f, // controls
		0x200e, 0x200f, 0x061c, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, // direction
		0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2064, 0xfeff, 0x00ad, 0x180e, // zero width, soft hyphen
		0x2028, 0x2029, 0x034f, 0x115f, 0x1160, 0x3164, 0xffa0, 0x17b4, 0x180b, // separators, blank letters
		0xe0001, 0xe0041, 0xe007f, 0x1d173, // tags, musical format controls
	} {
		if !Invisible(r) {
			t.Errorf("U+%04X is not Invisible", r)
		}
	}
	for _, r := range "aZ09 -_.,'&()/:ÄéßΩЖあ名한글ابجדהו\u0301\u0915\u093f❤😀\u00a0\u3000→" {
		if Invisible(r) {
			t.Errorf("U+%04X (%c) is Invisible", r, r)
		}
	}
}

// TestCheckName: a name with an invisible or direction-changing character
// is refused with a field error that names the character and where it is.
func TestCheckName(t *testing.T) {
	for _, c := range []struct{ in, why string }{
		{"adm\u202enimda", "U+202E at character 4"},
		{"ad\u200bmin", "U+200B at character 3"},
		{"\u2066Partners\u2069", "U+2066 at character 1"},
		{"tab\there", "U+0009 at character 4"},
		{"line\nbreak", "U+000A"},
		{"a\u2028b", "U+2028"},
		{"\u3164", "U+3164"},
		{"flag\U000E0067", "U+E0067"},
		{"x\ufeff", "U+FEFF"},
		{"", "is required"},
		{"   ", "is required"},
		{strings.Repeat("n", 11), "at most 10 characters, got 11"},
		// As the document's maxLength: the characters as given, spaces too.
		{" " + strings.Repeat("n", 10), "at most 10 characters, got 11"},
		{"\u00a0\u3000\u2003", "is required"},
		// Invisible at either end is refused, not trimmed away (the
		// document's pattern refuses it anywhere).
		{"Partners\n", "U+000A at character 9"},
		{"\tPartners", "U+0009 at character 1"},
		{"bad\xffutf8", "valid UTF-8"},
	} {
		_, err := CheckName("name", c.in, 10)
		e, ok := err.(*Error)
		if !ok || e.Code != EINVALID || !strings.Contains(e.Fields["name"], c.why) {
			t.Errorf("CheckName(%+q) = %v, want a field error with %q", c.in, err, c.why)
		}
	}
	for in, want := range map[string]string{"  Partners  ": "Partners", "Ünïcödé 名前": "Ünïcödé 名前", "R&D — team ❤": "R&D — team ❤"} {
		if got, err := CheckName("name", in, 20); err != nil || got != want {
			t.Errorf("CheckName(%q) = %q, %v", in, got, err)
		}
	}
	// The names of the API use it: groups, spaces' (in shared/spaces), API
	// token labels and the groups an invite names.
	if _, err := CleanGroupName("adm\u202enimda"); ErrorCode(err) != EINVALID {
		t.Errorf("group name with U+202E: %v", err)
	}
	if bad := ValidateAPIToken("ci\u200btoken", 30); bad["label"] == "" {
		t.Errorf("token label with U+200B: %v", bad)
	}
	if _, err := ValidateInvite(InviteInput{Emails: []string{"a@b.example"}, Groups: []string{"part\u202eners"}}); ErrorCode(err) != EINVALID {
		t.Errorf("invite naming a group with U+202E: %v", err)
	}
}

// TestNeutralizeText: free text loses what is invisible or turns text
// round, keeps line breaks and tabs, and keeps the joiners where they join
// two visible characters (Persian, emoji).
func TestNeutralizeText(t *testing.T) {
	for in, want := range map[string]string{
		"Click adm\u202enimda.example":         "Click admnimda.example",
		"ad\u200bmin":                          "admin",
		"\u2067\u05e9\u05dc\u05d5\u05dd\u2069": "\u05e9\u05dc\u05d5\u05dd",
		"Hi\nthere\tall":                       "Hi\nthere\tall",
		"می\u200cخواهم":                        "می\u200cخواهم",
		"👨\u200d👩\u200d👧":                      "👨\u200d👩\u200d👧",
		"a \u200db":                            "a b",
		"\u200dstart":                          "start",
		"end\u200c":                            "end",
		"bom\ufeff and \x1b[31mred":            "bom and [31mred",
		"bad\xffbyte":                          "bad\ufffdbyte",
		"plain":                                "plain",
	} {
		if got := NeutralizeText(in); got != want {
			t.Errorf("NeutralizeText(%+q) = %+q, want %+q", in, got, want)
		}
	}
}

// TestCountAndNamed: counts and lists read as a person would say them (the
// messages once said "1 paid user(s)").
func TestCountAndNamed(t *testing.T) {
	for got, want := range map[string]string{
		Count(1, "paid user", "paid users"):                   "1 paid user",
		Count(int64(6), "paid user", "paid users"):            "6 paid users",
		Count(0, "guest", "guests"):                           "0 guests",
		Named("group", "groups", []string{"Partners"}):        "group Partners",
		Named("group", "groups", []string{"Partners", "Ops"}): "groups Partners, Ops",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	site := Site{PaidUsers: 1, Guests: 5, GuestSlots: 0, UserLimit: 6, UserSlots: 0}
	for _, m := range []string{GuestLimitError(site, 1).Message, UserLimitError(site, 1).Message} {
		if strings.Contains(m, "(s)") {
			t.Errorf("%q says (s)", m)
		}
	}
	if m := GuestLimitError(site, 1).Message; !strings.Contains(m, "1 paid user allows 5 guests") {
		t.Errorf("guest limit: %q", m)
	}
}
