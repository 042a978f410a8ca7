package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigil-sec/vigil/internal/advisory"
)

// dbFlags locate the imported advisory database.
type dbFlags struct {
	dir string
}

func (f *dbFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.dir, "db", "", "advisory database folder (default: $VIGIL_DB, else the user cache folder, e.g. ~/.cache/vigil/db)")
}

// resolve returns the database folder from --db, $VIGIL_DB or the default.
func (f *dbFlags) resolve(e *env) (string, error) {
	if f.dir != "" {
		return f.dir, nil
	}
	if d := e.getenv("VIGIL_DB"); d != "" {
		return d, nil
	}
	return advisory.DefaultDir()
}

// open layers the imported database (when there is one) over the embedded
// snapshot, which always applies: a stale import must not hide a
// compromise the binary already knows about.
func (f *dbFlags) open(e *env) (advisory.Matcher, error) {
	embedded, err := advisory.OpenEmbedded()
	if err != nil {
		return nil, fmt.Errorf("loading the embedded advisory snapshot: %w", err)
	}
	dir, err := f.resolve(e)
	if err != nil {
		return nil, err
	}
	imported, err := advisory.Open(dir)
	switch {
	case errors.Is(err, advisory.ErrNoDB):
		if f.dir != "" {
			return nil, usagef("--db %s: %v (run 'vigil db import' first)", dir, err)
		}
		e.logger.Debug("no imported advisory database; using the embedded snapshot only", "dir", dir)
		return advisory.NewMulti(embedded), nil
	case err != nil:
		return nil, fmt.Errorf("opening the advisory database: %w", err)
	}
	return advisory.NewMulti(imported, embedded), nil
}

func newDBCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the advisory and malware database (OSV records)",
	}
	cmd.AddCommand(newDBImportCmd(e), newDBStatusCmd(e), newDBUpdateCmd(e))
	return cmd
}

func newDBImportCmd(e *env) *cobra.Command {
	var f dbFlags
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "import SOURCE...",
		Short: "Build the database from OSV sources: an all.zip, a folder of JSON records, a JSON file or a URL",
		Long: `Import builds a new advisory database from every SOURCE and swaps it in atomically: a failed or
interrupted import leaves the previous database in place. SOURCE is an OSV.dev-style all.zip (for npm:
the npm/all.zip export), a folder of OSV JSON records searched recursively (such as a checkout of
ossf/malicious-packages), a single JSON record, or an http(s) URL to a zip or JSON file.
The sources are remembered for 'vigil db update'.`,
		Example: `  vigil db import ~/Downloads/npm-all.zip
  vigil db import ./malicious-packages/osv/malicious/npm ./all.zip`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := f.resolve(e)
			if err != nil {
				return err
			}
			var sources []advisory.Source
			for _, a := range args {
				sources = append(sources, advisory.Source{Location: a})
			}
			m, err := advisory.Import(cmd.Context(), dir, sources, importOptions(e, timeout))
			if err != nil {
				return fmt.Errorf("importing advisories: %w", err)
			}
			printManifest(e.stdout, dir, m)
			return nil
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().DurationVar(&timeout, "timeout", 15*time.Minute, "overall time limit for downloading a URL source")
	return cmd
}

func newDBUpdateCmd(e *env) *cobra.Command {
	var f dbFlags
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Re-import the database's sources when they changed (ETag / If-Modified-Since)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := f.resolve(e)
			if err != nil {
				return err
			}
			res, err := advisory.Update(cmd.Context(), dir, importOptions(e, timeout))
			if err != nil {
				return fmt.Errorf("updating advisories: %w", err)
			}
			if !res.Updated {
				fmt.Fprintf(e.stdout, "advisory database in %s is up to date (no source changed)\n", dir)
				return nil
			}
			printManifest(e.stdout, dir, res.Manifest)
			return nil
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().DurationVar(&timeout, "timeout", 15*time.Minute, "overall time limit for downloading a URL source")
	return cmd
}

func newDBStatusCmd(e *env) *cobra.Command {
	var f dbFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what the database holds, where it came from and how old it is",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			embedded, err := advisory.OpenEmbedded()
			if err != nil {
				return fmt.Errorf("loading the embedded advisory snapshot: %w", err)
			}
			dir, err := f.resolve(e)
			if err != nil {
				return err
			}
			st, err := advisory.Status(dir)
			if err != nil && !errors.Is(err, advisory.ErrNoDB) {
				return fmt.Errorf("reading the advisory database: %w", err)
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Embedded advisory.Info      `json:"embedded"`
					Imported *advisory.DBStatus `json:"imported"`
				}{embedded.Info(), st})
			}
			ei := embedded.Info()
			fmt.Fprintf(e.stdout, "embedded snapshot: %d records (always applied)\n", ei.Records)
			if st == nil {
				fmt.Fprintf(e.stdout, "imported database: none in %s (run 'vigil db import')\n", dir)
				return nil
			}
			printManifest(e.stdout, dir, &st.Manifest)
			fmt.Fprintf(e.stdout, "  age: %s\n", st.Age.Round(time.Minute))
			return nil
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func importOptions(e *env, timeout time.Duration) advisory.ImportOptions {
	return advisory.ImportOptions{
		Client:    newHTTPClient(timeout),
		UserAgent: "vigil/" + Version,
	}
}

func printManifest(w io.Writer, dir string, m *advisory.Manifest) {
	fmt.Fprintf(w, "imported database: %s\n", dir)
	fmt.Fprintf(w, "  built: %s\n", m.Built.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  records: %d (%d malware), %d packages\n", m.Counts.Records, m.Counts.Malware, m.Counts.Packages)
	for _, s := range m.Sources {
		fmt.Fprintf(w, "  source: %s (%s, %d records, fetched %s)\n", s.Location, s.Kind, s.Records, s.Fetched.UTC().Format(time.RFC3339))
	}
	for _, p := range m.Problems {
		fmt.Fprintf(w, "  skipped: %s\n", p)
	}
}
