package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/scan"
)

// failOnLevels are the accepted --fail-on values, least to most permissive.
var failOnLevels = []string{"low", "medium", "high", "critical", "malware", "none"}

type scanFlags struct {
	lockfiles          []string
	format             string
	output             string
	failOn             string
	allowEmpty         bool
	configPath         string
	includeNodeModules bool
	maxFileSize        int64
	maxPaths           int
	db                 dbFlags
}

func newScanCmd(e *env) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan [PATH...]",
		Short: "Match every dependency of a project against malware and advisory records",
		Long: `Scan reads every lockfile (package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml,
bun.lock), node_modules tree or SBOM (CycloneDX, SPDX) under PATH (default: the current folder)
and reports known malware, vulnerable versions and lockfile hygiene problems, with the dependency
path that brought each package in and the version to pin. It works offline: an embedded snapshot
of notable npm compromises is always used, together with any database from 'vigil db import'.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error, 127 unexpected error,
128 nothing scanned (no lockfile, or no packages; see --allow-empty).`,
		Example: `  vigil scan .
  vigil scan --lockfile app/package-lock.json --format sarif --output vigil.sarif
  vigil scan ./node_modules --fail-on critical`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd, e, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.lockfiles, "lockfile", "L", nil, "scan this lockfile or SBOM as given (repeatable)")
	fl.StringVarP(&f.format, "format", "f", "table", "output format: table, json, sarif, markdown")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of stdout")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 on findings at or above: "+strings.Join(failOnLevels, ", ")+" (malware always fails unless none)")
	fl.BoolVar(&f.allowEmpty, "allow-empty", false, "exit 0 instead of 128 when no lockfile or no package is found")
	fl.StringVar(&f.configPath, "config", "", "vigil.yaml to use (default: vigil.yaml in the current folder or the scanned folder)")
	fl.BoolVar(&f.includeNodeModules, "include-node-modules", false, "also read node_modules trees of projects without a lockfile while walking")
	fl.Int64Var(&f.maxFileSize, "max-file-size", 256<<20, "refuse lockfiles larger than this many bytes")
	fl.IntVar(&f.maxPaths, "max-paths", 3, "dependency paths shown per finding")
	f.db.register(fl)
	return cmd
}

func runScan(cmd *cobra.Command, e *env, f scanFlags, args []string) error {
	if !validFailOn(f.failOn) {
		return usagef("--fail-on %q: want one of %s", f.failOn, strings.Join(failOnLevels, ", "))
	}
	if len(args) == 0 && len(f.lockfiles) == 0 {
		args = []string{"."}
	}
	cfg, err := loadConfig(f.configPath, args, f.lockfiles)
	if err != nil {
		return usageError{err}
	}
	db, err := f.db.open(e)
	if err != nil {
		return err
	}
	out, closeOut, err := openOutput(e, f.output)
	if err != nil {
		return err
	}
	h, err := report.New(f.format, out, report.Options{Color: f.output == "" && isTerminal(e.stdout), Version: Version, MaxPaths: f.maxPaths})
	if err != nil {
		closeOut()
		return usageError{err}
	}
	res, scanErr := scan.Run(cmd.Context(), scan.Options{
		Paths:              args,
		Lockfiles:          f.lockfiles,
		IncludeNodeModules: f.includeNodeModules,
		MaxFileSize:        f.maxFileSize,
		MaxPaths:           f.maxPaths,
		DB:                 db,
		Config:             cfg,
		Logger:             e.logger,
	})
	if res == nil {
		if errors.Is(scanErr, os.ErrNotExist) {
			return usageError{scanErr}
		}
		return scanErr
	}
	if err := h.Write(cmd.Context(), res); err != nil {
		closeOut()
		return fmt.Errorf("writing report: %w", err)
	}
	if err := closeOut(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if errors.Is(scanErr, scan.ErrNothingScanned) {
		if f.allowEmpty {
			return nil
		}
		return fmt.Errorf("%w: %s (pass --allow-empty to accept that)", errNothing, nothingReason(res))
	}
	for _, fr := range res.Files {
		for _, fd := range fr.Findings {
			if fd.Fails(f.failOn) {
				return errFindings
			}
		}
	}
	return nil
}

// nothingReason explains an empty scan: no files at all, or files that
// yielded nothing.
func nothingReason(res *scan.Result) string {
	if len(res.Files) == 0 {
		return "no lockfile, node_modules tree or SBOM found"
	}
	var parts []string
	for _, fr := range res.Files {
		switch fr.Status {
		case scan.StatusEmpty:
			parts = append(parts, fr.Path+": no packages")
		case scan.StatusError:
			parts = append(parts, fr.Path+": "+fr.Error)
		}
	}
	return "no file yielded a package (" + strings.Join(parts, "; ") + ")"
}

func validFailOn(s string) bool {
	for _, l := range failOnLevels {
		if s == l {
			return true
		}
	}
	return false
}

// loadConfig uses --config when given, else vigil.yaml in the current
// folder, else beside the first path or lockfile scanned.
func loadConfig(path string, args, lockfiles []string) (*config.Config, error) {
	if path != "" {
		return config.Load(path)
	}
	if _, err := os.Stat(config.FileName); err == nil {
		return config.Load(config.FileName)
	}
	first := ""
	switch {
	case len(args) > 0:
		first = args[0]
	case len(lockfiles) > 0:
		first = lockfiles[0]
	default:
		return config.Default(), nil
	}
	if st, err := os.Stat(first); err == nil && st.IsDir() {
		return config.Find(first)
	}
	return config.Find(filepath.Dir(first))
}

// openOutput returns where a report goes and a close function whose error
// must be checked: a full disk shows up when the file is closed.
func openOutput(e *env, path string) (io.Writer, func() error, error) {
	if path == "" {
		return e.stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("creating output file: %w", err)
	}
	return f, f.Close, nil
}
