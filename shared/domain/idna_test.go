package domain

import (
	"math/rand"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// TestNormalizeDomainOneFormPerSpelling: every spelling of one domain (NFC,
// NFD, upper case, fullwidth, other full stops, ignorable characters, the
// ASCII form itself) has one ASCII form, and invalid domains have none.
func TestNormalizeDomainOneFormPerSpelling(t *testing.T) {
	const bucher = "xn--bcher-kva.example"
	for _, c := range []struct{ in, want string }{
		{"bücher.example", bucher},                                    // NFC: ü is U+00FC
		{"bu\u0308cher.example", bucher},                              // NFD: u + U+0308 combining diaeresis
		{"BÜCHER.example", bucher},                                    // upper case
		{"BU\u0308CHER.EXAMPLE", bucher},                              // upper case, NFD
		{"ｂüｃｈｅｒ．ｅｘａｍｐｌｅ", bucher},                                    // fullwidth letters and full stop
		{"ＢＵ\u0308ＣＨＥＲ.example", bucher},                              // fullwidth, upper case, NFD
		{"bücher\u3002example", bucher},                               // ideographic full stop
		{"bü\u00adcher.example", bucher},                              // soft hyphen (ignored)
		{"xn--bcher-kva.example", bucher},                             // the ASCII form
		{"XN--BCHER-KVA.EXAMPLE", bucher},                             // the ASCII form in upper case
		{"  bücher.example\t", bucher},                                // surrounding white space
		{"münchen.de", "xn--mnchen-3ya.de"},                           // RFC 3492-style sample
		{"faß.de", "xn--fa-hia.de"},                                   // non-transitional: ß is kept
		{"\u2163.example", "iv.example"},                              // compatibility form (Roman numeral four)
		{"Example.COM", "example.com"},                                // ASCII is lower-cased
		{"他们为什么不说中文.example", "xn--ihqwcrb4cv8a8dqg056pqjye.example"}, // RFC 3492 §7.1
	} {
		if got := NormalizeDomain(c.in); got != c.want {
			t.Errorf("NormalizeDomain(%+q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, bad := range []string{
		"",
		"example",                // one label
		"example.com.",           // trailing dot
		"a..example",             // empty label
		"-bad.example",           // leading hyphen
		"bad-.example",           // trailing hyphen
		"ab--cd.example",         // "--" in positions 3-4 is reserved for ACE prefixes
		"bad_domain.example",     // STD3
		"exa mple.com",           // STD3
		"xn--bucher-xyd.example", // the Punycode of the NFD spelling: not NFC
		"xn--abc-.example",       // an ACE label that decodes to ASCII
		"xn--zz.example",         // bad Punycode
		"a\u200db.example",       // ZWJ outside its ContextJ rule
		"a\u05d0.example",        // Bidi rule: Latin then Hebrew in one label
		"\u2603.example",         // a symbol (UTS #46 NV8, refused by IDNA2008)
		"a@b.example",            // not a host name
		strings.Repeat("a", 64) + ".example",
		strings.Repeat("abcdefghi.", 26) + "example", // over 253 bytes
	} {
		if got := NormalizeDomain(bad); got != "" {
			t.Errorf("NormalizeDomain(%+q) = %q, want invalid", bad, got)
		}
	}
}

// TestNormalizeEmailDecomposedDomain: an address typed with its domain in
// NFD, or in fullwidth forms, is the same address as the composed spelling.
func TestNormalizeEmailDecomposedDomain(t *testing.T) {
	for _, in := range []string{"Ann@bücher.example", "ann@bu\u0308cher.example", "ANN@BU\u0308CHER.EXAMPLE", "ann@ｂüｃｈｅｒ．ｅｘａｍｐｌｅ"} {
		got, why := NormalizeEmail(in)
		if why != "" || got != "ann@xn--bcher-kva.example" {
			t.Errorf("NormalizeEmail(%+q) = %q, %q; want ann@xn--bcher-kva.example", in, got, why)
		}
	}
	if got, why := NormalizeEmail("ann@xn--bucher-xyd.example"); why == "" {
		t.Errorf("NormalizeEmail of an NFD ACE label = %q, want it refused as an invalid domain", got)
	}
}

// TestNormalizeDomainProperties: over random domains mixing scripts,
// composed and decomposed spellings agree, the result is its own normal
// form, and it is an ASCII host name.
func TestNormalizeDomainProperties(t *testing.T) {
	alphabet := []rune("abcxyz019-üéßøåçñǆ한국어日本中文русскийελληνικάहिन्दीÅÉÜ\u0301\u0308")
	rng := rand.New(rand.NewSource(1))
	valid := 0
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
		got := NormalizeDomain(d)
		for _, form := range []norm.Form{norm.NFC, norm.NFD, norm.NFKC, norm.NFKD} {
			if other := NormalizeDomain(form.String(d)); other != got {
				t.Fatalf("NormalizeDomain(%+q) = %q but of its %v form %q", d, got, form, other)
			}
		}
		if got == "" {
			continue
		}
		valid++
		if again := NormalizeDomain(got); again != got {
			t.Fatalf("NormalizeDomain(%q) = %q, not its own normal form (%q)", d, got, again)
		}
		if !validDomain(got) || strings.ToLower(got) != got {
			t.Fatalf("NormalizeDomain(%+q) = %q, not a lower-case ASCII host name", d, got)
		}
	}
	if valid < 1000 {
		t.Fatalf("only %d of 5000 random domains were valid: the generator tests too little", valid)
	}
}
