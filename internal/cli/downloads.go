package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
)

// downloadsSchemaVersion versions the JSON document of 'vigil downloads'.
const downloadsSchemaVersion = "1.0"

var storeFormats = []string{"table", "json"}

type downloadsFlags struct {
	store        storeFlags
	pkg          string
	since, until string
	action       string
	client       string
	format       string
	limit        int
}

func newDownloadsCmd(e *env) *cobra.Command {
	var f downloadsFlags
	cmd := &cobra.Command{
		Use:   "downloads",
		Short: "Show which machines fetched a package through the proxy, and when",
		Long: `Downloads lists the tarball requests 'vigil proxy' recorded in the store, oldest first: when, from
which client address, which package version, what the policy did (allow, warn, block), and the npm
command and User-Agent the client sent. It answers the question an incident starts with: which
machines fetched debug@4.4.2 between 13:16 and 15:20 UTC?

--package takes a name, name@version or name@range (npm semantics: ^4.4.0, >=4.4.2 <4.4.3).
--since is inclusive and --until exclusive; both take RFC 3339 times (2025-09-08T13:16:00Z; without a
zone, UTC) or dates (2025-09-08: from the start of that day for --since, to its end for --until).
--client takes an address; without a port it matches every port the host used.`,
		Example: `  vigil downloads --package debug@4.4.2 --since 2025-09-08T13:16:00Z --until 2025-09-08T15:20:00Z
  vigil downloads --package 'debug@>=4.4.2 <4.4.3' --action block --format json
  vigil downloads --client 10.0.0.7 --since 2025-09-08 --until 2025-09-08`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := f.query()
			if err != nil {
				return err
			}
			s, err := f.store.openExisting(cmd.Context(), e)
			if err != nil {
				return err
			}
			ds := []store.Download{}
			if s != nil {
				defer s.Close()
				if ds, err = s.Downloads(cmd.Context(), q); err != nil {
					return storeError(fmt.Errorf("querying downloads: %w", err))
				}
			}
			if f.format == "json" {
				return writeDownloadsJSON(e.stdout, q, ds)
			}
			writeDownloadsTable(e.stdout, ds)
			return nil
		},
	}
	fl := cmd.Flags()
	f.store.register(fl)
	fl.StringVarP(&f.pkg, "package", "p", "", "NAME, NAME@VERSION or NAME@RANGE to list (default: every package)")
	fl.StringVar(&f.since, "since", "", "only downloads at or after this time (RFC 3339 or a date)")
	fl.StringVar(&f.until, "until", "", "only downloads before this time (RFC 3339 or a date, which includes that day)")
	fl.StringVar(&f.action, "action", "", "only downloads the policy answered with this action: allow, warn or block")
	fl.StringVar(&f.client, "client", "", "only downloads from this client address (without a port: any port)")
	fl.IntVar(&f.limit, "limit", 0, "list at most this many (the oldest first; 0: all)")
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(storeFormats, ", "))
	return cmd
}

// query checks the flags and turns them into a store query.
func (f *downloadsFlags) query() (store.DownloadQuery, error) {
	var q store.DownloadQuery
	if !slices.Contains(storeFormats, f.format) {
		return q, usagef("--format %q: want %s", f.format, strings.Join(storeFormats, ", "))
	}
	if f.pkg != "" {
		name, versions, err := parsePackageSpec(f.pkg, false)
		if err != nil {
			return q, usagef("--package %v", err)
		}
		q.Name, q.Version = name, versions
	}
	var err error
	if f.since != "" {
		if q.Since, err = parseTimeFlag(f.since, false); err != nil {
			return q, usagef("--since: %v", err)
		}
	}
	if f.until != "" {
		if q.Until, err = parseTimeFlag(f.until, true); err != nil {
			return q, usagef("--until: %v", err)
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return q, usagef("--until %s is not after --since %s", q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	switch a := policy.Action(f.action); a {
	case "", policy.Allow, policy.Warn, policy.Block:
		q.Action = a
	default:
		return q, usagef("--action %q: want allow, warn or block", f.action)
	}
	if f.limit < 0 {
		return q, usagef("--limit %d: want 0 (no limit) or more", f.limit)
	}
	q.Client, q.Limit = strings.TrimSpace(f.client), f.limit
	return q, nil
}

// clientHost drops the port: the machine is what an incident asks about.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// distinctClients lists the hosts in ds in order of first appearance.
func distinctClients(ds []store.Download) []string {
	clients := []string{}
	for _, d := range ds {
		if h := hostOf(d.Client); !slices.Contains(clients, h) {
			clients = append(clients, h)
		}
	}
	return clients
}

func writeDownloadsTable(w io.Writer, ds []store.Download) {
	if len(ds) == 0 {
		fmt.Fprintln(w, "no downloads match")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCLIENT\tPACKAGE\tACTION\tSTATUS\tNPM COMMAND\tUSER AGENT")
	for _, d := range ds {
		// Everything but the time came from a client's request: sanitised,
		// so a crafted User-Agent cannot drive the terminal.
		fmt.Fprintf(tw, "%s\t%s\t%s@%s\t%s\t%d\t%s\t%s\n",
			d.Time.UTC().Format(time.RFC3339), rules.Sanitize(d.Client, 60),
			rules.Sanitize(d.Name, 100), rules.Sanitize(d.Version, 60), d.Action, d.Status,
			dashIfEmpty(rules.Sanitize(d.NpmCommand, 30)), dashIfEmpty(rules.Sanitize(d.UserAgent, 80)))
	}
	tw.Flush()
	clients := distinctClients(ds)
	for i, c := range clients {
		clients[i] = rules.Sanitize(c, 60)
	}
	fmt.Fprintf(w, "\n%d %s from %d %s: %s\n", len(ds), nounFor(len(ds), "download", "downloads"),
		len(clients), nounFor(len(clients), "client", "clients"), strings.Join(clients, ", "))
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func nounFor(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// downloadsDoc is the JSON document; lists are never null.
type downloadsDoc struct {
	SchemaVersion string           `json:"schema_version"`
	Query         downloadsQuery   `json:"query"`
	Count         int              `json:"count"`
	Clients       []string         `json:"clients"`
	Downloads     []store.Download `json:"downloads"`
}

type downloadsQuery struct {
	Package  string        `json:"package,omitempty"`
	Versions string        `json:"versions,omitempty"`
	Since    time.Time     `json:"since,omitzero"`
	Until    time.Time     `json:"until,omitzero"`
	Action   policy.Action `json:"action,omitempty"`
	Client   string        `json:"client,omitempty"`
	Limit    int           `json:"limit,omitempty"`
}

func writeDownloadsJSON(w io.Writer, q store.DownloadQuery, ds []store.Download) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // ranges read ">=5.6.1 <5.6.2", not "\u003e=5.6.1"
	return enc.Encode(downloadsDoc{
		SchemaVersion: downloadsSchemaVersion,
		Query:         downloadsQuery{q.Name, q.Version, q.Since, q.Until, q.Action, q.Client, q.Limit},
		Count:         len(ds),
		Clients:       distinctClients(ds),
		Downloads:     ds,
	})
}
