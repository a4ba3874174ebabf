package passcode

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/guestaccess/guestaccess/shared/domain"
)

const linkKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8" // 32 bytes, base64url

// linked is otp with the link key linkKey.
func linked(account string, sent time.Time, attempts int) *domain.OTP {
	o := otp(account, sent, attempts)
	o.LinkHash = domain.HashOTPLink(linkKey)
	return o
}

// TestVerifyLink: the link's key completes the verification even when
// wrong codes used up the code's tries (that is what it is for); a wrong
// key is refused without being counted (no CountOTPAttempt: nobody can
// guess 32 bytes); a malformed one before any read; an expired link is
// 410; a key for an address nobody was emailed, or that another account
// now holds, verifies nobody.
func TestVerifyLink(t *testing.T) {
	ext := user("g1", guest, domain.UserActive)
	view := View{OrgID: orgID, OrgName: "Acme", Email: guest}
	cases := []struct {
		name     string
		key      string
		scope    domain.VerifyScope
		complete bool
		wantCode string
	}{
		{"right key, code typed wrong 5 times", linkKey, domain.VerifyScope{Org: org(), User: ext, OTP: linked("g1", now.Add(-time.Minute), domain.OTPMaxAttempts)}, true, ""},
		{"right key", linkKey, domain.VerifyScope{Org: org(), User: ext, OTP: linked("g1", now.Add(-time.Minute), 0)}, true, ""},
		{"wrong key", strings.Repeat("A", 43), domain.VerifyScope{Org: org(), User: ext, OTP: linked("g1", now, 0)}, false, domain.EINVALID},
		{"malformed key", "short", domain.VerifyScope{}, false, domain.EINVALID},
		{"state without a link", linkKey, domain.VerifyScope{Org: org(), User: ext, OTP: otp("g1", now, 0)}, false, domain.EINVALID},
		{"expired", linkKey, domain.VerifyScope{Org: org(), User: ext, OTP: linked("g1", now.Add(-domain.OTPLifetime), 0)}, false, domain.EGONE},
		{"nobody emailed", linkKey, domain.VerifyScope{Org: org(), OTP: linked("", now, 0)}, false, domain.EINVALID},
		{"another account's now", linkKey, domain.VerifyScope{Org: org(), User: user("g2", guest, domain.UserActive), OTP: linked("g1", now, 0)}, false, domain.EINVALID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{}
			if ValidLink(tc.key) {
				st.ScopeLoader = loadScope(func(string, string) (domain.VerifyScope, error) { return tc.scope, nil })
			}
			var done []domain.Verified
			if tc.complete {
				st.Completer = complete(func(v domain.Verified) error { done = append(done, v); return nil })
			}
			v, err := service(st, fakeSender{t: t}).VerifyLink(context.Background(), orgID, guest, tc.key, "r")
			if code(t, err) != tc.wantCode {
				t.Fatalf("VerifyLink: %v, want %q", err, tc.wantCode)
			}
			if tc.complete {
				if len(done) != 1 || !reflect.DeepEqual(done[0].Code, *tc.scope.OTP) || !v.VerifiedAt.Equal(now) {
					t.Fatalf("completed %+v, view %+v", done, v)
				}
				return
			}
			if tc.key != "short" && !reflect.DeepEqual(v, view) {
				t.Errorf("view %+v, want %+v", v, view)
			}
		})
	}
}
