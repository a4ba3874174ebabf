package domain

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Punycode (RFC 3492) with the parameters IDNA uses (RFC 3490 §5). The
// domain package converts internationalised domains itself rather than
// linking golang.org/x/net/idna: with the options used here (no UTS #46
// mapping, STD3 host names, checked by NormalizeDomain and validDomain) its
// ToASCII is exactly "xn--" + Punycode per non-ASCII label, and its trie
// tables (tens of KB, a second copy next to net/http's vendored one) cost the
// invite function its binary size budget. A test compares the two.
const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
	acePrefix     = "xn--"
	// pcMaxValue bounds intermediate values: far above anything a 63-byte
	// label can hold, far below int overflow.
	pcMaxValue = 1 << 30
)

var errPunycode = errors.New("domain: bad punycode")

func pcAdapt(delta, points int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / points
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}

func pcThreshold(k, bias int) int {
	switch {
	case k <= bias:
		return pcTMin
	case k >= bias+pcTMax:
		return pcTMax
	}
	return k - bias
}

func pcDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

// punyEncode returns the Punycode of a label (without the ACE prefix).
func punyEncode(label string) (string, error) {
	runes := []rune(label)
	var out strings.Builder
	for _, r := range runes {
		if r < 0x80 {
			out.WriteByte(byte(r))
		}
	}
	b := out.Len()
	h := b
	if b > 0 {
		out.WriteByte('-')
	}
	n, delta, bias := pcInitialN, 0, pcInitialBias
	for h < len(runes) {
		m := int(utf8.MaxRune) + 1
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if (m-n)*(h+1) > pcMaxValue-delta {
			return "", errPunycode
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
			}
			if int(r) != n {
				continue
			}
			q := delta
			for k := pcBase; ; k += pcBase {
				t := pcThreshold(k, bias)
				if q < t {
					break
				}
				out.WriteByte(pcDigit(t + (q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			out.WriteByte(pcDigit(q))
			bias = pcAdapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return out.String(), nil
}

// punyDecode returns the label a Punycode string (without the ACE prefix)
// encodes, or errPunycode.
func punyDecode(s string) (string, error) {
	var out []rune
	rest := s
	if d := strings.LastIndexByte(s, '-'); d >= 0 {
		for i := 0; i < d; i++ {
			if s[i] >= 0x80 {
				return "", errPunycode
			}
			out = append(out, rune(s[i]))
		}
		rest = s[d+1:]
	}
	n, i, bias := pcInitialN, 0, pcInitialBias
	for pos := 0; pos < len(rest); {
		old, w := i, 1
		for k := pcBase; ; k += pcBase {
			if pos >= len(rest) {
				return "", errPunycode
			}
			c := rest[pos]
			pos++
			var d int
			switch {
			case c >= 'a' && c <= 'z':
				d = int(c - 'a')
			case c >= 'A' && c <= 'Z':
				d = int(c - 'A')
			case c >= '0' && c <= '9':
				d = int(c-'0') + 26
			default:
				return "", errPunycode
			}
			if d*w > pcMaxValue-i {
				return "", errPunycode
			}
			i += d * w
			t := pcThreshold(k, bias)
			if d < t {
				break
			}
			if w > pcMaxValue/(pcBase-t) {
				return "", errPunycode
			}
			w *= pcBase - t
		}
		bias = pcAdapt(i-old, len(out)+1, old == 0)
		n += i / (len(out) + 1)
		i %= len(out) + 1
		if n > utf8.MaxRune || n < pcInitialN || (n >= 0xD800 && n <= 0xDFFF) {
			return "", errPunycode
		}
		out = append(out, 0)
		copy(out[i+1:], out[i:])
		out[i] = rune(n)
		i++
	}
	return string(out), nil
}

// toASCII converts a lower-case domain to its ASCII form label by label:
// ASCII labels are kept (an "xn--" label must be valid, canonical Punycode of
// a non-ASCII label), the others become "xn--" + Punycode.
func toASCII(d string) (string, error) {
	labels := strings.Split(d, ".")
	for i, l := range labels {
		ascii := true
		for j := 0; j < len(l); j++ {
			if l[j] >= 0x80 {
				ascii = false
				break
			}
		}
		if ascii {
			if strings.HasPrefix(l, acePrefix) {
				u, err := punyDecode(l[len(acePrefix):])
				if err != nil {
					return "", err
				}
				if back, err := punyEncode(u); err != nil || back != l[len(acePrefix):] || isASCII(u) {
					return "", errPunycode
				}
			}
			continue
		}
		p, err := punyEncode(l)
		if err != nil {
			return "", err
		}
		labels[i] = acePrefix + p
	}
	return strings.Join(labels, "."), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
