package js

import (
	"math"
	"testing"
)

func TestJSParseInt(t *testing.T) {
	tests := []struct {
		in    string
		radix int
		want  float64
	}{
		{"6ynt", 0, 6}, {"0x1f", 0, 31}, {"  -42abc", 0, -42}, {"Tumq", 0, math.NaN()}, {"", 0, math.NaN()},
		{"3559053nzsepj", 0, 3559053}, {"ff", 16, 255}, {"0x", 0, math.NaN()}, {"+7", 0, 7}, {"z", 36, 35},
	}
	for _, tt := range tests {
		got := jsParseInt(tt.in, tt.radix)
		if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
			t.Errorf("parseInt(%q, %d) = %v, want %v", tt.in, tt.radix, got, tt.want)
		}
	}
}

func TestUnescape(t *testing.T) {
	tests := map[string]string{
		`'a\nb'`:                  "a\nb",
		`"\x41\u0042\103"`:        "ABC",
		`'\uD83D\uDE00'`:          "😀",
		`'\u{41}'`:                "A",
		`'\q'`:                    "q",
		`'line\` + "\n" + `next'`: "linenext",
		`'\0'`:                    "\x00",
		`'\uD800'`:                "\uFFFD",
	}
	for in, want := range tests {
		got, ok := unquote([]byte(in))
		if !ok || got != want {
			t.Errorf("unquote(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	tests := map[string]float64{"0x1A": 26, "0o17": 15, "0b101": 5, "017": 15, "1_000": 1000, "10n": 10, "1e3": 1000, "0.5": 0.5, "019": 19}
	for in, want := range tests {
		if got, ok := parseNumber([]byte(in)); !ok || got != want {
			t.Errorf("parseNumber(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
}

func TestObfBase64RoundTrip(t *testing.T) {
	for _, s := range []string{"fetch", "XMLHttpRequest", "é—ü", "a", ""} {
		got, ok := obfBase64(obfBase64Encode(s))
		if !ok || got != s {
			t.Errorf("round trip %q = %q, %v", s, got, ok)
		}
		got, ok = obfRC4(obfBase64Encode(rc4Units(s, "k3y")), "k3y")
		if !ok || got != s {
			t.Errorf("rc4 round trip %q = %q, %v", s, got, ok)
		}
	}
}
