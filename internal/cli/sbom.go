package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/sbom"
	"github.com/vigil-sec/vigil/internal/scan"
)

func newSBOMCmd(e *env) *cobra.Command {
	var (
		lockfiles          []string
		output, project    string
		includeNodeModules bool
		reproducible       bool
	)
	cmd := &cobra.Command{
		Use:   "sbom [PATH...]",
		Short: "Write a CycloneDX 1.6 SBOM of every package the project's lockfiles resolve",
		Long: `Sbom reads the same inputs as 'vigil scan' and writes one CycloneDX 1.6 JSON document listing
every third-party name@version as a component with its npm purl, integrity hash, download URL, scope
(dev-only packages are "excluded") and the dependency edges between them. A lockfile that cannot be
read fails the command: a partial SBOM would silently understate what is installed.`,
		Example: `  vigil sbom . -o bom.cdx.json
  vigil sbom -L pnpm-lock.yaml --reproducible`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && len(lockfiles) == 0 {
				args = []string{"."}
			}
			res, err := scan.Run(cmd.Context(), scan.Options{Paths: args, Lockfiles: lockfiles, IncludeNodeModules: includeNodeModules, Logger: e.logger})
			if res == nil {
				return err
			}
			var graphs []*lockfile.Graph
			var failed []error
			for _, fr := range res.Files {
				switch fr.Status {
				case scan.StatusError:
					failed = append(failed, fmt.Errorf("%s", fr.Error))
				default:
					graphs = append(graphs, fr.Graph)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("no SBOM written: %w", errors.Join(failed...))
			}
			if errors.Is(err, scan.ErrNothingScanned) {
				return fmt.Errorf("%w: no lockfile, node_modules tree or SBOM with packages found", errNothing)
			}
			out, closeOut, err := openOutput(e, output)
			if err != nil {
				return err
			}
			opts := sbom.WriteOptions{ToolVersion: Version, ProjectName: project}
			if !reproducible {
				opts.Timestamp = time.Now().UTC()
			}
			if err := sbom.WriteCycloneDX(out, graphs, opts); err != nil {
				closeOut()
				return fmt.Errorf("writing the SBOM: %w", err)
			}
			return closeOut()
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&lockfiles, "lockfile", "L", nil, "read this lockfile or SBOM as given (repeatable)")
	fl.StringVarP(&output, "output", "o", "", "write the SBOM to this file instead of stdout")
	fl.StringVar(&project, "project-name", "", "name of the project component (default: the root package name)")
	fl.BoolVar(&includeNodeModules, "include-node-modules", false, "also read node_modules trees of projects without a lockfile")
	fl.BoolVar(&reproducible, "reproducible", false, "leave out the timestamp so the same lockfiles give the same bytes")
	return cmd
}
