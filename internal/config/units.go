package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Duration is a length of time written as a Go duration ("90m", "72h",
// "1h30m") or with a days suffix ("3d", "1.5d", "2d12h"), since cooldowns
// are naturally counted in days. It is never negative.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String writes d in the form ParseDuration reads back: whole days as
// "3d", anything else as a Go duration ("36h0m0s").
func (d Duration) String() string {
	const day = 24 * time.Hour
	if td := time.Duration(d); td != 0 && td%day == 0 {
		return strconv.FormatInt(int64(td/day), 10) + "d"
	}
	return time.Duration(d).String()
}

// ParseDuration reads a Duration: a Go duration, optionally preceded by a
// number of days ("3d", "2d12h", "0.5d"). A bare "0" is zero; other bare
// numbers are refused because the unit would be a guess.
func ParseDuration(s string) (Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, errors.New("empty duration")
	}
	if strings.HasPrefix(in, "-") {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	var days float64
	rest := in
	if i := strings.IndexByte(in, 'd'); i >= 0 {
		n, err := strconv.ParseFloat(in[:i], 64)
		if err != nil || i == 0 || strings.ContainsAny(in[:i], "+-eEnNiIxX_") {
			return 0, fmt.Errorf("duration %q: want a number of days before \"d\", e.g. \"3d\"", s)
		}
		days, rest = n, in[i+1:]
	}
	var total float64
	if rest != "" {
		td, err := time.ParseDuration(rest)
		if err != nil {
			if n, nerr := strconv.ParseFloat(rest, 64); nerr == nil && days == 0 && rest == in {
				if n == 0 {
					return 0, nil
				}
				return 0, fmt.Errorf("duration %q has no unit: write e.g. \"72h\" or \"3d\"", s)
			}
			return 0, fmt.Errorf("duration %q: want a Go duration (\"72h\", \"90m\") or days (\"3d\")", s)
		}
		if td < 0 {
			return 0, fmt.Errorf("duration %q is negative", s)
		}
		total = float64(td)
	}
	total += days * float64(24*time.Hour)
	if total >= math.MaxInt64 {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return Duration(total), nil
}

// UnmarshalYAML reads a Duration from a YAML scalar, reporting the line of
// a bad value.
func (d *Duration) UnmarshalYAML(node ast.Node) error {
	s, err := scalarText(node, "a duration such as \"72h\" or \"3d\"")
	if err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return nodeError(node, err.Error())
	}
	*d = v
	return nil
}

// MarshalYAML writes the String form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ByteSize is a number of bytes written plainly ("1048576") or with a
// unit: binary "KiB", "MiB", "GiB", "TiB" or decimal "KB", "MB", "GB",
// "TB" (case-insensitive, an optional space, fractions allowed: "1.5GiB").
type ByteSize int64

// Size units, binary and decimal.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
	TiB ByteSize = 1 << 40
)

var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseByteSize reads a ByteSize. Negative sizes are refused.
func ParseByteSize(s string) (ByteSize, error) {
	in := strings.TrimSpace(s)
	i := 0
	for i < len(in) && (in[i] >= '0' && in[i] <= '9' || in[i] == '.') {
		i++
	}
	num, unit := in[:i], strings.ToLower(strings.TrimSpace(in[i:]))
	if num == "" {
		return 0, fmt.Errorf("size %q: want a number of bytes or e.g. \"512MiB\", \"10GB\"", s)
	}
	mult, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)", s, in[i:])
	}
	if unit == "" || unit == "b" {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("size %q: a byte count is a whole number below 2^63", s)
		}
		return ByteSize(n), nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: bad number %q", s, num)
	}
	total := f * mult
	if total >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return ByteSize(total), nil
}

// String writes b with the largest binary unit that divides it exactly.
func (b ByteSize) String() string {
	for _, u := range []struct {
		n    ByteSize
		name string
	}{{TiB, "TiB"}, {GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}} {
		if b != 0 && b%u.n == 0 {
			return strconv.FormatInt(int64(b/u.n), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// UnmarshalYAML reads a ByteSize from a YAML scalar (a plain integer is a
// byte count), reporting the line of a bad value.
func (b *ByteSize) UnmarshalYAML(node ast.Node) error {
	s, err := scalarText(node, "a size such as \"10GiB\" or a number of bytes")
	if err != nil {
		return err
	}
	v, err := ParseByteSize(s)
	if err != nil {
		return nodeError(node, err.Error())
	}
	*b = v
	return nil
}

// MarshalYAML writes the String form.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// scalarText returns the text of a string or number node; anything else
// (a list, a map, a boolean) is an error naming what was expected.
func scalarText(node ast.Node, want string) (string, error) {
	switch n := node.(type) {
	case *ast.StringNode:
		return n.Value, nil
	case *ast.IntegerNode, *ast.FloatNode:
		return n.GetToken().Value, nil
	}
	return "", nodeError(node, fmt.Sprintf("want %s, not a %s", want, strings.ToLower(node.Type().String())))
}
