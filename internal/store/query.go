package store

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/policy"
)

// ErrInvalid marks a record or query the store refuses; the message says
// which field and why.
var ErrInvalid = errors.New("invalid")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// downloadFilter is a DownloadQuery prepared for SQL: everything an index
// or a comparison can do goes to the database; npm ranges, which SQL
// cannot evaluate, are checked in Go on the rows that come back.
type downloadFilter struct {
	q DownloadQuery
	// exactVersion is set when q.Version is one version.
	exactVersion string
	// versionRange is set when q.Version is a range; inRange caches its
	// answer per version, as a package's downloads repeat a few versions
	// and parsing one costs more than reading the row.
	versionRange *npm.Range
	inRange      map[string]bool
	// clientPrefix matches the client with any port ("10.0.0.7:" for
	// "10.0.0.7"): the proxy records remote addresses with their port, and
	// "which machines" is a question about hosts.
	clientPrefix string
}

func newDownloadFilter(q DownloadQuery) (downloadFilter, error) {
	f := downloadFilter{q: q}
	if q.Limit < 0 {
		return f, invalidf("download query: negative limit %d", q.Limit)
	}
	if q.Action != "" && !validAction(q.Action) {
		return f, invalidf("download query: action %q (want allow, warn or block)", q.Action)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return f, invalidf("download query: until %s is not after since %s", q.Until.UTC().Format(time.RFC3339), q.Since.UTC().Format(time.RFC3339))
	}
	if v := strings.TrimSpace(q.Version); v != "" {
		if pv, err := npm.ParseVersion(v); err == nil {
			f.exactVersion = pv.String()
		} else {
			r, err := npm.ParseRange(v)
			if err != nil {
				return f, invalidf("download query: version %q is neither a version nor an npm range: %v", v, err)
			}
			f.versionRange = &r
		}
	}
	if c := q.Client; c != "" && !hasPort(c) {
		if strings.Contains(c, ":") { // a bare IPv6 address
			f.clientPrefix = "[" + c + "]:"
		} else {
			f.clientPrefix = c + ":"
		}
	}
	return f, nil
}

func hasPort(addr string) bool {
	_, _, err := net.SplitHostPort(addr)
	return err == nil
}

// keep reports whether a row the database returned passes the filters SQL
// could not apply.
func (f *downloadFilter) keep(d *Download) bool {
	if f.versionRange == nil {
		return true
	}
	in, ok := f.inRange[d.Version]
	if !ok {
		in = f.versionRange.Contains(d.Version)
		if f.inRange == nil {
			f.inRange = map[string]bool{}
		}
		f.inRange[d.Version] = in
	}
	return in
}

// sqlLimit is the LIMIT the database may apply: none when Go still filters.
func (f *downloadFilter) sqlLimit() int {
	if f.versionRange != nil {
		return 0
	}
	return f.q.Limit
}

// full reports whether the result already holds Limit rows.
func (f *downloadFilter) full(n int) bool { return f.q.Limit > 0 && n >= f.q.Limit }

// dialect adapts the WHERE clause to a backend.
type dialect struct {
	// placeholder renders the nth argument marker: "?" or "$n".
	placeholder func(n int) string
	// timeCol is the time column; timeArg converts a bound to its type.
	timeCol string
	timeArg func(time.Time) any
	// clientPrefix is the condition (with ? markers) and arguments that
	// match clients starting with p.
	clientPrefix func(p string) (string, []any)
}

var sqliteDialect = dialect{
	placeholder: func(int) string { return "?" },
	timeCol:     "time_us",
	timeArg:     func(t time.Time) any { return microseconds(t) },
	// A range over the BINARY-collated index instead of LIKE, whose
	// case folding and wildcards would need escaping.
	clientPrefix: func(p string) (string, []any) {
		return "(client >= ? AND client < ?)", []any{p, prefixEnd(p)}
	},
}

var postgresDialect = dialect{
	placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
	timeCol:     "time",
	timeArg:     func(t time.Time) any { return t.UTC() },
	// starts_with compares bytes; a range comparison would follow the
	// database's locale collation, which orders punctuation oddly.
	clientPrefix: func(p string) (string, []any) {
		return "starts_with(client, ?)", []any{p}
	},
}

// where builds the WHERE clause and its arguments.
func (f *downloadFilter) where(d dialect) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", d.placeholder(len(args)), 1)
		}
		conds = append(conds, cond)
	}
	q := f.q
	if q.Name != "" {
		add("name = ?", q.Name)
	}
	if f.exactVersion != "" {
		add("version = ?", f.exactVersion)
	}
	if !q.Since.IsZero() {
		add(d.timeCol+" >= ?", d.timeArg(q.Since))
	}
	if !q.Until.IsZero() {
		add(d.timeCol+" < ?", d.timeArg(q.Until))
	}
	if q.Action != "" {
		add("action = ?", string(q.Action))
	}
	if q.Client != "" {
		if f.clientPrefix != "" {
			cond, vals := d.clientPrefix(f.clientPrefix)
			add("(client = ? OR "+cond+")", append([]any{q.Client}, vals...)...)
		} else {
			add("client = ?", q.Client)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// prefixEnd is the smallest string greater than every string starting with
// p, so "col >= p AND col < prefixEnd(p)" is a prefix match an index can
// serve without LIKE's escaping and collation rules. p ends in ':', so
// incrementing its last byte never overflows.
func prefixEnd(p string) string {
	b := []byte(p)
	b[len(b)-1]++
	return string(b)
}

func validAction(a policy.Action) bool {
	return a == policy.Allow || a == policy.Warn || a == policy.Block
}

// checkDownload validates a record before it is written and fills the
// defaults: the current time, and microsecond precision in UTC, which is
// what both backends keep.
func checkDownload(d *Download, now time.Time) error {
	if d.Name == "" {
		return invalidf("download: empty package name")
	}
	if d.Version == "" {
		return invalidf("download of %s: empty version", d.Name)
	}
	if !validAction(d.Action) {
		return invalidf("download of %s@%s: action %q (want allow, warn or block)", d.Name, d.Version, d.Action)
	}
	if d.Time.IsZero() {
		d.Time = now
	}
	d.Time = d.Time.UTC().Truncate(time.Microsecond)
	return nil
}

// checkQuarantine validates an entry: a package name or "@scope/*", and
// an npm range or "" for every version.
func checkQuarantine(e *policy.QuarantineEntry, now time.Time) error {
	e.Package = strings.TrimSpace(e.Package)
	e.Versions = strings.TrimSpace(e.Versions)
	if err := ValidatePattern(e.Package); err != nil {
		return invalidf("quarantine entry: %v", err)
	}
	if e.Versions != "" {
		if _, err := npm.ParseRange(e.Versions); err != nil {
			return invalidf("quarantine entry %s: %v", e.Package, err)
		}
	}
	if e.AddedAt.IsZero() {
		e.AddedAt = now
	}
	e.AddedAt = e.AddedAt.UTC().Truncate(time.Microsecond)
	if !e.Expires.IsZero() {
		e.Expires = e.Expires.UTC().Truncate(time.Microsecond)
	}
	return nil
}

// ValidatePattern checks a quarantine pattern: a package name npm accepts,
// or a whole scope written "@scope/*".
func ValidatePattern(p string) error {
	if scope, ok := strings.CutSuffix(p, "/*"); ok && strings.HasPrefix(scope, "@") {
		if err := npm.ValidateName(scope + "/x"); err != nil {
			return fmt.Errorf("scope pattern %q: the scope is not valid", p)
		}
		return nil
	}
	return npm.ValidateName(p)
}

// microseconds converts to the SQLite column representation.
func microseconds(t time.Time) int64 { return t.UnixMicro() }

func fromMicroseconds(us int64) time.Time { return time.UnixMicro(us).UTC() }
