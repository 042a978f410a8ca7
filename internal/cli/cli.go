// Package cli is Vigil's command line: one file per command, flags turned
// into options for the domain packages, and exit codes mapped in one place
// (exit.go). Run is the whole program, so every command is testable
// in-process.
package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X …/cli.Version=v1.2.3".
var Version = "dev"

// env bundles what every command may touch, so tests can hand in buffers
// and a scratch home.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	logger         *slog.Logger
	getenv         func(string) string
}

// Run executes vigil with args (without the program name) and returns the
// process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, logger: slog.New(slog.DiscardHandler)}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && isCobraUsage(err) {
		err = usageError{err}
	}
	return exitCode(err, stderr)
}

func newRoot(e *env) *cobra.Command {
	var verbose bool
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "npm supply-chain defence: scan lockfiles for malware and vulnerable packages",
		Long:          "Vigil finds known-malicious and vulnerable npm packages in any npm, yarn, pnpm or bun lockfile,\nnode_modules tree or SBOM, offline, and says through which dependency they arrived.",
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelDebug
			}
			e.logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
		},
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log what vigil does to stderr")
	root.AddCommand(newScanCmd(e), newDBCmd(e), newSBOMCmd(e), newAnalyzeCmd(e))
	root.AddCommand(newDiffCmd(e))
	root.AddCommand(newDownloadsCmd(e))
	root.AddCommand(newQuarantineCmd(e))
	root.AddCommand(newProxyCmd(e))
	return root
}

// isCobraUsage recognises cobra's own argument and flag errors, which carry
// no type of their own.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most", "if any flags in the group"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// isTerminal reports whether w is a character device (a TTY), which decides
// colour output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
