package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
)

// quarantineSchemaVersion versions the JSON document of 'vigil quarantine ls'.
const quarantineSchemaVersion = "1.0"

func newQuarantineCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quarantine",
		Short: "Hold back packages, versions or whole scopes until you release them",
		Long: `The quarantine list holds back a package ("debug"), a range of its versions ("debug@4.4.2",
"debug@>=4.4.2 <4.4.3") or a whole scope ("@evil/*") until the entry is removed or expires. The proxy
blocks what it covers; the list lives in the store (--store, $VIGIL_STORE), so every proxy sharing a
PostgreSQL store sees the same list.`,
	}
	cmd.AddCommand(newQuarantineAddCmd(e), newQuarantineRmCmd(e), newQuarantineLsCmd(e))
	return cmd
}

func newQuarantineAddCmd(e *env) *cobra.Command {
	var sf storeFlags
	var reason, expires, by string
	cmd := &cobra.Command{
		Use:   "add NAME[@RANGE]",
		Short: "Quarantine a package, a range of its versions, or a scope (@scope/*)",
		Long: `Add puts an entry on the quarantine list, or replaces the entry for the same NAME and RANGE.
--expires takes a date (2026-12-31: the entry applies through that day, UTC), an RFC 3339 time, or a
duration from now (72h, 30d).`,
		Example: `  vigil quarantine add debug@4.4.2 --reason "MAL-2025-46974: compromised release"
  vigil quarantine add 'chalk@>=5.6.1 <5.6.2' --reason "under investigation" --expires 72h
  vigil quarantine add '@evil/*' --reason "scope taken over" --by security-team`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, versions, err := parsePackageSpec(args[0], true)
			if err != nil {
				return usageError{err}
			}
			if strings.TrimSpace(reason) == "" {
				return usagef("--reason is required: say why %s is held back", args[0])
			}
			now := time.Now().UTC()
			entry := policy.QuarantineEntry{Package: name, Versions: versions, Reason: strings.TrimSpace(reason), AddedBy: by, AddedAt: now}
			if by == "" {
				entry.AddedBy = quarantineUser(e)
			}
			if expires != "" {
				if entry.Expires, err = parseExpiry(expires, now); err != nil {
					return usagef("--expires: %v", err)
				}
			}
			s, err := sf.open(cmd.Context(), e)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.AddQuarantine(cmd.Context(), entry); err != nil {
				return storeError(err)
			}
			fmt.Fprintf(e.stdout, "quarantined %s%s\n", quarantineKey(entry.Package, entry.Versions), untilText(entry.Expires))
			return nil
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().StringVar(&reason, "reason", "", "why the package is held back (required; shown to whoever hits the block)")
	cmd.Flags().StringVar(&expires, "expires", "", "when the entry stops applying: a date, an RFC 3339 time, or a duration (72h, 30d); default never")
	cmd.Flags().StringVar(&by, "by", "", "who added the entry (default: $USER)")
	return cmd
}

func newQuarantineRmCmd(e *env) *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:     "rm NAME[@RANGE]",
		Aliases: []string{"remove"},
		Short:   "Remove a quarantine entry (NAME and RANGE exactly as added)",
		Example: `  vigil quarantine rm debug@4.4.2
  vigil quarantine rm '@evil/*'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, versions, err := parsePackageSpec(args[0], true)
			if err != nil {
				return usageError{err}
			}
			s, err := sf.openExisting(cmd.Context(), e)
			if err != nil {
				return err
			}
			if s == nil {
				return usagef("no quarantine entry %s: the store is empty", quarantineKey(name, versions))
			}
			defer s.Close()
			err = s.RemoveQuarantine(cmd.Context(), name, versions)
			if errors.Is(err, store.ErrNotFound) {
				return usagef("no quarantine entry %s (entries are removed by the NAME@RANGE they were added with; see 'vigil quarantine ls')", quarantineKey(name, versions))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "removed %s from the quarantine\n", quarantineKey(name, versions))
			return nil
		},
	}
	sf.register(cmd.Flags())
	return cmd
}

func newQuarantineLsCmd(e *env) *cobra.Command {
	var sf storeFlags
	var format string
	var all bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the quarantine entries in force (--all: expired ones too)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(storeFormats, format) {
				return usagef("--format %q: want %s", format, strings.Join(storeFormats, ", "))
			}
			s, err := sf.openExisting(cmd.Context(), e)
			if err != nil {
				return err
			}
			entries := []policy.QuarantineEntry{}
			if s != nil {
				defer s.Close()
				if entries, err = s.Quarantine(cmd.Context()); err != nil {
					return err
				}
			}
			now := time.Now()
			shown, hidden := []quarantineRow{}, 0
			for _, en := range entries {
				expired := !en.Expires.IsZero() && !en.Expires.After(now)
				if expired && !all {
					hidden++
					continue
				}
				shown = append(shown, quarantineRow{QuarantineEntry: en, Expired: expired})
			}
			if format == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false) // ranges read ">=5.6.1 <5.6.2", not "\u003e=5.6.1"
				return enc.Encode(quarantineDoc{SchemaVersion: quarantineSchemaVersion, Entries: shown, HiddenExpired: hidden})
			}
			writeQuarantineTable(e.stdout, shown, hidden)
			return nil
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: "+strings.Join(storeFormats, ", "))
	cmd.Flags().BoolVar(&all, "all", false, "include expired entries")
	return cmd
}

type quarantineRow struct {
	policy.QuarantineEntry
	Expired bool `json:"expired"`
}

type quarantineDoc struct {
	SchemaVersion string          `json:"schema_version"`
	Entries       []quarantineRow `json:"entries"`
	// HiddenExpired counts expired entries left out (without --all).
	HiddenExpired int `json:"hidden_expired"`
}

func writeQuarantineTable(w io.Writer, rows []quarantineRow, hidden int) {
	if len(rows) == 0 {
		fmt.Fprint(w, "no quarantine entries")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PACKAGE\tVERSIONS\tREASON\tADDED BY\tADDED\tEXPIRES")
		for _, r := range rows {
			expires := "never"
			if !r.Expires.IsZero() {
				expires = r.Expires.UTC().Format(time.RFC3339)
				if r.Expired {
					expires += " (expired)"
				}
			}
			versions := r.Versions
			if versions == "" {
				versions = "all"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", rules.Sanitize(r.Package, 100), rules.Sanitize(versions, 60),
				rules.Sanitize(r.Reason, 80), dashIfEmpty(rules.Sanitize(r.AddedBy, 40)), r.AddedAt.UTC().Format(time.RFC3339), expires)
		}
		tw.Flush()
		fmt.Fprintf(w, "\n%d %s", len(rows), nounFor(len(rows), "entry", "entries"))
	}
	if hidden > 0 {
		fmt.Fprintf(w, " (%d expired %s hidden; --all shows %s)", hidden, nounFor(hidden, "entry", "entries"), nounFor(hidden, "it", "them"))
	}
	fmt.Fprintln(w)
}

// parseExpiry reads --expires: a duration from now (72h, 30d), or a date
// or time (a date means the end of that day).
func parseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	var at time.Time
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return time.Time{}, fmt.Errorf("%q: want a positive number of days, like 30d", s)
		}
		at = now.AddDate(0, 0, n)
	} else if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%q: the duration must be positive", s)
		}
		at = now.Add(d)
	} else {
		t, err := parseTimeFlag(s, true)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: want a date (2026-12-31), an RFC 3339 time or a duration (72h, 30d)", s)
		}
		at = t
	}
	if !at.After(now) {
		return time.Time{}, fmt.Errorf("%s is in the past", at.Format(time.RFC3339))
	}
	return at, nil
}

func quarantineUser(e *env) string {
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := e.getenv(k); v != "" {
			return v
		}
	}
	return ""
}

func quarantineKey(name, versions string) string {
	if versions == "" {
		return name
	}
	return name + "@" + versions
}

func untilText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " until " + t.UTC().Format(time.RFC3339)
}
