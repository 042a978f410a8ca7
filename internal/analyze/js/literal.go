package js

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// unquote decodes a JavaScript string literal (with its quotes) the way the
// engine would, so that rules see "child_process" whether the source wrote
// 'child_process', "\x63hild_process" or '\u0063hild_process'. ok is false
// when lit is not a quoted literal.
func unquote(lit []byte) (string, bool) {
	if len(lit) < 2 || (lit[0] != '\'' && lit[0] != '"') || lit[len(lit)-1] != lit[0] {
		return "", false
	}
	return unescape(lit[1 : len(lit)-1]), true
}

// templateText returns the cooked text of a template token: the lexer
// hands over "`abc${", "}abc${", "}abc`" or "`abc`".
func templateText(raw []byte) string {
	if len(raw) > 0 && (raw[0] == '`' || raw[0] == '}') {
		raw = raw[1:]
	}
	if len(raw) >= 2 && raw[len(raw)-2] == '$' && raw[len(raw)-1] == '{' {
		raw = raw[:len(raw)-2]
	} else if len(raw) > 0 && raw[len(raw)-1] == '`' {
		raw = raw[:len(raw)-1]
	}
	return unescape(raw)
}

// unescape applies JavaScript string escapes. Malformed escapes keep the
// escaped character, as engines in sloppy mode do; lone surrogates become
// U+FFFD so the result is always valid UTF-8.
func unescape(b []byte) string {
	if !containsByte(b, '\\') {
		if utf8.Valid(b) {
			return string(b)
		}
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	var sb strings.Builder
	sb.Grow(len(b))
	var units []uint16 // pending UTF-16 code units, to join surrogate pairs
	flush := func() {
		if len(units) > 0 {
			sb.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			flush()
			r, n := utf8.DecodeRune(b[i:])
			sb.WriteRune(r)
			i += n
			continue
		}
		i++
		if i >= len(b) {
			break
		}
		c = b[i]
		i++
		switch c {
		case 'n':
			flush()
			sb.WriteByte('\n')
		case 'r':
			flush()
			sb.WriteByte('\r')
		case 't':
			flush()
			sb.WriteByte('\t')
		case 'b':
			flush()
			sb.WriteByte('\b')
		case 'f':
			flush()
			sb.WriteByte('\f')
		case 'v':
			flush()
			sb.WriteByte('\v')
		case '\r':
			flush()
			if i < len(b) && b[i] == '\n' {
				i++
			}
		case '\n':
			flush()
		case 'x':
			if i+2 <= len(b) {
				if v, ok := hexVal(b[i : i+2]); ok {
					flush()
					sb.WriteRune(rune(v))
					i += 2
					continue
				}
			}
			flush()
			sb.WriteByte('x')
		case 'u':
			if i < len(b) && b[i] == '{' {
				end := indexByte(b[i:], '}')
				if end > 1 {
					if v, ok := hexVal(b[i+1 : i+end]); ok && v <= 0x10FFFF {
						flush()
						sb.WriteRune(validRune(rune(v)))
						i += end + 1
						continue
					}
				}
			} else if i+4 <= len(b) {
				if v, ok := hexVal(b[i : i+4]); ok {
					units = append(units, uint16(v))
					i += 4
					continue
				}
			}
			flush()
			sb.WriteByte('u')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			// Legacy octal escapes: up to three digits, value <= 0377.
			v := int(c - '0')
			for k := 0; k < 2 && i < len(b) && b[i] >= '0' && b[i] <= '7'; k++ {
				nv := v*8 + int(b[i]-'0')
				if nv > 0xFF {
					break
				}
				v = nv
				i++
			}
			flush()
			sb.WriteRune(rune(v))
		default:
			flush()
			// \u2028 and \u2029 line continuations, and identity escapes.
			i--
			r, n := utf8.DecodeRune(b[i:])
			i += n
			if r != '\u2028' && r != '\u2029' {
				sb.WriteRune(r)
			}
		}
	}
	flush()
	return sb.String()
}

func validRune(r rune) rune {
	if r >= 0xD800 && r <= 0xDFFF {
		return utf8.RuneError
	}
	return r
}

func hexVal(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 8 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		d, ok := hexDigit(c)
		if !ok {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func containsByte(b []byte, c byte) bool { return indexByte(b, c) >= 0 }

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// parseNumber reads a JavaScript numeric literal: decimal, 0x, 0o, 0b,
// legacy octal (0777), numeric separators and BigInt suffixes.
func parseNumber(lit []byte) (float64, bool) {
	s := strings.ReplaceAll(string(lit), "_", "")
	s = strings.TrimSuffix(s, "n")
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			return parseUintFloat(s[2:], base)
		}
	}
	if len(s) > 1 && s[0] == '0' && allOctal(s[1:]) {
		return parseUintFloat(s[1:], 8)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func allOctal(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return s != ""
}

// parseUintFloat converts digits in base to a float64 without overflowing
// (JavaScript numbers past 2^53 lose precision the same way).
func parseUintFloat(s string, base int) (float64, bool) {
	if s == "" {
		return 0, false
	}
	var f float64
	for i := 0; i < len(s); i++ {
		d, ok := digitVal(s[i])
		if !ok || int(d) >= base {
			return 0, false
		}
		f = f*float64(base) + float64(d)
	}
	return f, true
}

func digitVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'Z':
		return c - 'A' + 10, true
	}
	return 0, false
}

// jsParseInt implements the global parseInt with an optional radix (0 for
// none). Obfuscators compute their string-array rotation with it, so the
// emulation must agree with engines on inputs like "6ynt" (6), "0x1f" (31)
// and "Tumq" (NaN).
func jsParseInt(s string, radix int) float64 {
	s = strings.TrimLeftFunc(s, isJSSpace)
	sign := 1.0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	if radix == 0 || radix == 16 {
		if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
			s = s[2:]
			radix = 16
		}
	}
	if radix == 0 {
		radix = 10
	}
	if radix < 2 || radix > 36 {
		return math.NaN()
	}
	end := 0
	for end < len(s) {
		d, ok := digitVal(s[end])
		if !ok || int(d) >= radix {
			break
		}
		end++
	}
	if end == 0 {
		return math.NaN()
	}
	f, _ := parseUintFloat(s[:end], radix)
	return sign * f
}

func isJSSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0xA0, 0xFEFF, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// numberString converts a number the way JavaScript's ToString does for
// the values obfuscators concatenate (integers, simple fractions).
func numberString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// toInt32 is JavaScript's ToInt32, for bitwise operators.
func toInt32(f float64) int32 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return int32(uint32(int64(math.Mod(math.Trunc(f), 4294967296))))
}
