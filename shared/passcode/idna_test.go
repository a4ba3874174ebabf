package passcode

import (
	"context"
	"errors"
	"testing"

	"github.com/guestaccess/guestaccess/shared/domain"
)

// TestEverySpellingFindsOneAddress: the passcode flow looks an address up
// by its one normal form, however its domain is typed (composed, decomposed
// u + U+0308, upper case, fullwidth): a code sent to one spelling is the
// code of every spelling, and no spelling has a passcode state of its own.
func TestEverySpellingFindsOneAddress(t *testing.T) {
	const want = "guest@xn--bcher-kva.example"
	boom := errors.New("stop after the lookup")
	for _, typed := range []string{"guest@bücher.example", "guest@bu\u0308cher.example", "GUEST@BU\u0308CHER.EXAMPLE", "guest@ｂüｃｈｅｒ．ｅｘａｍｐｌｅ", want} {
		var looked []string
		st := &fakeStore{ScopeLoader: loadScope(func(_, email string) (domain.VerifyScope, error) {
			looked = append(looked, email)
			return domain.VerifyScope{}, boom
		})}
		s := service(st, fakeSender{t: t})
		if _, err := s.Send(context.Background(), orgID, typed); !errors.Is(err, boom) {
			t.Errorf("Send(%+q) = %v, want the lookup reached", typed, err)
		}
		if _, err := s.Verify(context.Background(), orgID, typed, "123456", "req-1"); !errors.Is(err, boom) {
			t.Errorf("Verify(%+q) = %v, want the lookup reached", typed, err)
		}
		if len(looked) != 2 || looked[0] != want || looked[1] != want {
			t.Errorf("%+q was looked up as %q, want %q twice", typed, looked, want)
		}
	}
}
