package domain

import (
	"math/rand"
	"strings"
	"testing"

	"golang.org/x/net/idna"
)

// TestPunycodeVectors: RFC 3492 §7.1's samples (lower-cased) and common
// domains encode as published and decode back.
func TestPunycodeVectors(t *testing.T) {
	for in, want := range map[string]string{
		"bücher":            "bcher-kva",
		"münchen":           "mnchen-3ya",
		"他们为什么不说中文":         "ihqwcrb4cv8a8dqg056pqjye",
		"3年b組金八先生":          "3b-ww4c5e180e575a65lsy2b",
		"ليهمابتكلموشعربي؟": "egbpdaj6bu4bxfgehfvwxn",
		"почемужеонинеговорятпорусски": "b1abfaaepdrnnbgefbadotcwatmq2g4l",
		"abc": "abc-",
	} {
		got, err := punyEncode(in)
		if err != nil || got != want {
			t.Errorf("punyEncode(%q) = %q, %v; want %q", in, got, err, want)
		}
		back, err := punyDecode(want)
		if err != nil || back != in {
			t.Errorf("punyDecode(%q) = %q, %v; want %q", want, back, err, in)
		}
	}
	for _, bad := range []string{"99999999999", "a-!", "zz-\u00e9", "-9"} {
		if got, err := punyDecode(bad); err == nil {
			t.Errorf("punyDecode(%q) = %q, want an error", bad, got)
		}
	}
}

// TestToASCIIMatchesXNetIDNA compares toASCII with golang.org/x/net/idna's
// profile that NormalizeDomain used before (STD3 rules, no mapping) over
// random domains mixing scripts, and over the ACE forms that profile gives.
func TestToASCIIMatchesXNetIDNA(t *testing.T) {
	ref := idna.New(idna.StrictDomainName(true))
	alphabet := []rune("abcxyz019-üéßøåçñ한국어日本中文русскийελληνικάعربيעבריתहिन्दी")
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 5000; i++ {
		var labels []string
		for l := 0; l < 1+rng.Intn(3); l++ {
			var b strings.Builder
			for c := 0; c < 1+rng.Intn(12); c++ {
				b.WriteRune(alphabet[rng.Intn(len(alphabet))])
			}
			labels = append(labels, b.String())
		}
		d := strings.Join(append(labels, "example"), ".")
		want, wantErr := ref.ToASCII(d)
		got, err := toASCII(d)
		if wantErr == nil && (err != nil || got != want) {
			t.Fatalf("toASCII(%q) = %q, %v; x/net/idna %q", d, got, err, want)
		}
		if wantErr == nil {
			if again, err := toASCII(want); err != nil || again != want {
				t.Fatalf("toASCII(%q) (ACE form) = %q, %v", want, again, err)
			}
		}
	}
	for _, bad := range []string{"xn--zz.example", "xn--abc-.example", "xn--.example"} {
		if got, err := toASCII(bad); err == nil {
			t.Errorf("toASCII(%q) = %q, want an error", bad, got)
		}
	}
}
