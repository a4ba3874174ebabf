package cors

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	p, err := Parse(" https://Console.Example.com ,http://127.0.0.1:8081,https://console.example.com,, http://localhost:3000/")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://console.example.com", "http://127.0.0.1:8081", "http://localhost:3000"}; !reflect.DeepEqual(p.Origins(), want) {
		t.Errorf("Origins() = %v, want %v", p.Origins(), want)
	}
	if empty, err := Parse(""); err != nil || empty.Enabled() {
		t.Errorf("empty list: %v %v", empty, err)
	}
	for _, bad := range []string{"*", "null", "console.example.com", "ftp://x.example", "https://x.example/admin", "https://x.example?a=1",
		"https://user@x.example", "http://console.example.com", "https://", "https://x.example#f"} {
		if _, err := Parse("https://ok.example," + bad); err == nil {
			t.Errorf("Parse accepted %q", bad)
		}
	}
}

func TestHeaders(t *testing.T) {
	p := MustParse("https://console.example.com")
	h := map[string]string{"Vary": "Accept-Encoding"}
	p.Headers(h, "https://console.example.com")
	want := map[string]string{"Vary": "Accept-Encoding, Origin", AllowOrigin: "https://console.example.com", ExposeHeaders: Exposed}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("allowed: %v, want %v", h, want)
	}
	for _, o := range []string{"https://evil.example", "", "null", "https://console.example.com.evil.example", "HTTPS://CONSOLE.EXAMPLE.COM"} {
		h := map[string]string{}
		p.Headers(h, o)
		if !reflect.DeepEqual(h, map[string]string{"Vary": "Origin"}) {
			t.Errorf("origin %q: %v, want only Vary", o, h)
		}
	}
	var none Policy
	h = map[string]string{}
	none.Headers(h, "https://console.example.com")
	if len(h) != 0 {
		t.Errorf("no origins allowed: %v", h)
	}
}

func TestPreflight(t *testing.T) {
	p := MustParse("https://console.example.com")
	h, ok := p.Preflight("https://console.example.com")
	want := map[string]string{"Vary": "Origin", AllowOrigin: "https://console.example.com", AllowMethods: Methods, AllowHeaders: Headers, MaxAge: Age}
	if !ok || !reflect.DeepEqual(h, want) {
		t.Errorf("allowed: %v %v, want %v", h, ok, want)
	}
	if h, ok := p.Preflight("https://evil.example"); ok || h[AllowOrigin] != "" || h[AllowMethods] != "" {
		t.Errorf("refused origin: %v %v", h, ok)
	}
}
