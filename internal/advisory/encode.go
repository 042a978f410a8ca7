package advisory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/vigil-sec/vigil/internal/npm"
)

// The index stores each npm affected entry pre-parsed, so matching never
// touches JSON nor parses a bound:
//
//	entry    = uvarint(#versions) { uvarint(len) canonical-version-bytes }
//	           uvarint(#ranges)   { byte(range type) uvarint(#events) { event } }
//	event    = byte(kind | flagZero | flagInf) [version]   (sorted, see eval.go)
//	version  = uvarint(major) uvarint(minor) uvarint(patch) uvarint(#pre) { pre }
//	pre      = 0x00 uvarint(number) | 0x01 uvarint(len) bytes
//	         | 0x02 uvarint(number) uvarint(len) bytes   (numeric with leading zeros)
//
// Comparing an encoded bound with the locked version walks these bytes
// directly and allocates nothing.

const (
	flagZero = 0x10 // introduced "0"
	flagInf  = 0x20 // limit "*"
	kindMask = 0x0f
)

// ErrCorrupt is wrapped by errors about a damaged index or record file.
var ErrCorrupt = errors.New("advisory database is corrupt")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

func rangeTypeCode(t RangeType) byte {
	if t == RangeEcosystem {
		return 2
	}
	return 1
}

// encodeAffected appends the binary form of an npm affected entry.
func encodeAffected(b []byte, a *Affected) []byte {
	b = binary.AppendUvarint(b, uint64(len(a.Versions)))
	for _, s := range a.Versions {
		c := canonicalString(s)
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	var ranges [][]normEvent
	var types []byte
	for i := range a.Ranges {
		if evs, ok := normalizeRange(&a.Ranges[i]); ok {
			ranges = append(ranges, evs)
			types = append(types, rangeTypeCode(a.Ranges[i].Type))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(ranges)))
	for i, evs := range ranges {
		b = append(b, types[i])
		b = binary.AppendUvarint(b, uint64(len(evs)))
		for _, e := range evs {
			k := byte(e.kind)
			switch {
			case e.zero:
				b = append(b, k|flagZero)
			case e.inf:
				b = append(b, k|flagInf)
			default:
				b = append(b, k)
				b = appendVersion(b, e.v)
			}
		}
	}
	return b
}

func appendVersion(b []byte, v npm.Version) []byte {
	b = binary.AppendUvarint(b, v.Major)
	b = binary.AppendUvarint(b, v.Minor)
	b = binary.AppendUvarint(b, v.Patch)
	b = binary.AppendUvarint(b, uint64(len(v.Prerelease)))
	for _, id := range v.Prerelease {
		if n, ok := numericID(id); ok {
			if strconv.FormatUint(n, 10) == id {
				b = append(b, 0)
				b = binary.AppendUvarint(b, n)
			} else { // "01": numeric for precedence, spelled as written
				b = append(b, 2)
				b = binary.AppendUvarint(b, n)
				b = binary.AppendUvarint(b, uint64(len(id)))
				b = append(b, id...)
			}
		} else {
			b = append(b, 1)
			b = binary.AppendUvarint(b, uint64(len(id)))
			b = append(b, id...)
		}
	}
	return b
}

// numericID mirrors npm.Version's rule for numeric prerelease identifiers:
// all digits and fitting in a uint64.
func numericID(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// dec reads the encoding; the first out-of-bounds read sets err and every
// later read returns zero, so callers check err once per unit.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail(what string) { d.setErr(corrupt("truncated %s", what)) }

func (d *dec) setErr(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *dec) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length or count that must fit in the remaining bytes (each
// element takes at least one byte), which bounds every loop by the input.
func (d *dec) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("count")
		return 0
	}
	return int(n)
}

func (d *dec) byte1() byte {
	if len(d.b) == 0 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *dec) bytes(n int) []byte {
	if n > len(d.b) {
		d.fail("bytes")
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

// prepared is a valid locked version with its prerelease identifiers
// classified once.
type prepared struct {
	query
	preNum   []uint64
	preIsNum []bool
}

func prepare(q query) prepared {
	p := prepared{query: q}
	if q.valid && len(q.v.Prerelease) > 0 {
		p.preNum = make([]uint64, len(q.v.Prerelease))
		p.preIsNum = make([]bool, len(q.v.Prerelease))
		for i, id := range q.v.Prerelease {
			p.preNum[i], p.preIsNum[i] = numericID(id)
		}
	}
	return p
}

// cmpEncoded reads one encoded version and returns its semver precedence
// relative to the prepared version (encoded <=> q), always consuming the
// whole encoded version.
func cmpEncoded(d *dec, q *prepared) int {
	c := 0
	for _, qn := range [3]uint64{q.v.Major, q.v.Minor, q.v.Patch} {
		n := d.uvarint()
		if c == 0 {
			c = cmpU64(n, qn)
		}
	}
	npre := d.count()
	qpre := len(q.v.Prerelease)
	if c == 0 {
		switch {
		case npre == 0 && qpre == 0:
		case npre == 0:
			c = 1
		case qpre == 0:
			c = -1
		}
	}
	decided := c != 0 || npre == 0 || qpre == 0
	for i := 0; i < npre; i++ {
		tag := d.byte1()
		var num uint64
		var str []byte
		switch tag {
		case 0:
			num = d.uvarint()
		case 1:
			str = d.bytes(d.count())
		case 2:
			num = d.uvarint()
			d.bytes(d.count())
			tag = 0
		default:
			d.setErr(corrupt("prerelease tag %d", tag))
		}
		if decided || d.err != nil {
			continue
		}
		if i >= qpre { // q is a prefix of the encoded identifiers
			c, decided = 1, true
			continue
		}
		switch {
		case tag == 0 && q.preIsNum[i]:
			c = cmpU64(num, q.preNum[i])
		case tag == 0:
			c = -1 // numeric identifiers sort below alphanumeric ones
		case q.preIsNum[i]:
			c = 1
		default:
			c = cmpStr(string(str), q.v.Prerelease[i])
		}
		decided = c != 0
	}
	if !decided && npre < qpre {
		c = -1
	}
	return c
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// matchEncoded evaluates one encoded affected entry for q.
func matchEncoded(entry []byte, q *prepared) (bool, error) {
	d := dec{b: entry}
	hit := false
	for n := d.count(); n > 0 && d.err == nil; n-- {
		if string(d.bytes(d.count())) == q.canon {
			hit = true
		}
	}
	nr := d.count()
	for ; nr > 0 && d.err == nil; nr-- {
		d.byte1() // range type: SEMVER and ECOSYSTEM evaluate alike for npm
		vulnerable, hasLimit, below := false, false, false
		for ne := d.count(); ne > 0 && d.err == nil; ne-- {
			ev := d.byte1()
			kind := evKind(ev & kindMask)
			var c int // bound <=> q
			switch {
			case ev&flagZero != 0:
				c = -1
			case ev&flagInf != 0:
				c = 1
			default:
				c = cmpEncoded(&d, q)
			}
			if !q.valid {
				continue
			}
			switch kind {
			case evIntroduced:
				if c <= 0 {
					vulnerable = true
				}
			case evFixed:
				if c <= 0 {
					vulnerable = false
				}
			case evLastAffected:
				if c < 0 {
					vulnerable = false
				}
			case evLimit:
				hasLimit = true
				if c > 0 {
					below = true
				}
			default:
				d.setErr(corrupt("event kind %d", kind))
			}
		}
		if q.valid && vulnerable && (!hasLimit || below) {
			hit = true
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = corrupt("%d trailing bytes in entry", len(d.b))
	}
	if d.err != nil {
		return false, d.err
	}
	return hit, nil
}

// encodedBounds returns the fixed and last_affected versions of an encoded
// entry.
func encodedBounds(entry []byte, fixed, last []npm.Version) ([]npm.Version, []npm.Version, error) {
	d := dec{b: entry}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		d.bytes(d.count())
	}
	for nr := d.count(); nr > 0 && d.err == nil; nr-- {
		d.byte1()
		for ne := d.count(); ne > 0 && d.err == nil; ne-- {
			ev := d.byte1()
			if ev&(flagZero|flagInf) != 0 {
				continue
			}
			v := decodeVersion(&d)
			switch evKind(ev & kindMask) {
			case evFixed:
				fixed = append(fixed, v)
			case evLastAffected:
				last = append(last, v)
			}
		}
	}
	return fixed, last, d.err
}

func decodeVersion(d *dec) npm.Version {
	v := npm.Version{Major: d.uvarint(), Minor: d.uvarint(), Patch: d.uvarint()}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		switch d.byte1() {
		case 0:
			v.Prerelease = append(v.Prerelease, strconv.FormatUint(d.uvarint(), 10))
		case 1:
			v.Prerelease = append(v.Prerelease, string(d.bytes(d.count())))
		case 2:
			d.uvarint()
			v.Prerelease = append(v.Prerelease, string(d.bytes(d.count())))
		default:
			d.setErr(corrupt("prerelease tag"))
		}
	}
	return v
}
