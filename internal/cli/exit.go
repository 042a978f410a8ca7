package cli

import (
	"errors"
	"fmt"
	"io"
)

// Exit codes, documented in docs/exit-codes.md and mapped here only.
const (
	ExitClean      = 0   // scanned, nothing at or above --fail-on
	ExitFindings   = 1   // findings at or above --fail-on
	ExitUsage      = 2   // bad flags, arguments or config
	ExitUnexpected = 127 // anything else went wrong
	ExitNothing    = 128 // nothing was scanned (no lockfile, or no packages)
)

// Sentinel errors the commands return; exitCode maps them.
var (
	// errFindings means the command ran and found what --fail-on asks to fail on.
	errFindings = errors.New("findings at or above the --fail-on threshold")
	// errNothing means no lockfile was found or none held a package.
	errNothing = errors.New("nothing scanned")
)

// usageError marks errors in how vigil was invoked.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCode maps a command's error to the process exit code and prints what
// the user needs to know; findings were already reported by the command.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil:
		return ExitClean
	case errors.Is(err, errFindings):
		return ExitFindings
	case errors.Is(err, errNothing):
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return ExitNothing
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "vigil: %v\n", err)
		return ExitUsage
	}
	fmt.Fprintf(stderr, "vigil: %v\n", err)
	return ExitUnexpected
}
