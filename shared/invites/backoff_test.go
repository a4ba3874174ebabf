package invites

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	base := 15 * time.Minute
	want := []time.Duration{base, base, 2 * base, 4 * base, 8 * base, 16 * base, MaxRetryDelay, MaxRetryDelay}
	for attempts, w := range want {
		if got := Backoff(base, attempts); got != w {
			t.Errorf("Backoff(%v, %d) = %v, want %v", base, attempts, got, w)
		}
	}
	if Backoff(0, 1) != 15*time.Minute {
		t.Error("zero base not defaulted")
	}
}

func TestAcceptLink(t *testing.T) {
	if got := AcceptLink("https://guests.example/v1/invitations/accept", "a-b_c"); got != "https://guests.example/v1/invitations/accept?token=a-b_c" {
		t.Errorf("AcceptLink = %q", got)
	}
}
