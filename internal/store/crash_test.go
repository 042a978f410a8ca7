package store_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
)

// The crash test re-executes this test binary as a child that writes
// downloads as fast as it can and prints "committed N" for each record
// the store acknowledged; the parent kills it with SIGKILL mid-stream and
// checks that every acknowledged record is in the re-opened database.
const (
	crashDSNEnv  = "VIGIL_STORE_CRASH_DSN"
	crashModeEnv = "VIGIL_STORE_CRASH_MODE"
)

func TestSQLiteSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process; skipped with -short")
	}
	for _, mode := range []string{"direct", "batch"} {
		t.Run(mode, func(t *testing.T) {
			dsn := "sqlite://" + filepath.Join(t.TempDir(), "crash.db")
			committed := runAndKill(t, dsn, mode, 400)
			s, err := store.Open(t.Context(), dsn)
			if err != nil {
				t.Fatalf("re-open after kill -9: %v", err)
			}
			defer s.Close()
			got, err := s.Downloads(t.Context(), store.DownloadQuery{Name: "crash"})
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, d := range got {
				have[d.Version] = true
			}
			var missing []string
			for _, v := range committed {
				if !have[v] {
					missing = append(missing, v)
				}
			}
			if len(missing) > 0 {
				t.Fatalf("%d of %d acknowledged records lost after kill -9, e.g. %q", len(missing), len(committed), missing[:min(5, len(missing))])
			}
			t.Logf("%s: %d acknowledged, %d in the database after kill -9", mode, len(committed), len(got))
			var check string
			if err := rawSQLite(t, dsn).QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
				t.Errorf("integrity_check = %q, %v", check, err)
			}
		})
	}
}

// runAndKill starts the child, lets it acknowledge at least want records,
// kills it and returns the versions it acknowledged (including those
// still in the pipe when it died).
func runAndKill(t *testing.T, dsn, mode string, want int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDSNEnv+"="+dsn, crashModeEnv+"="+mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var committed []string
	killed := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "committed ")
		if !ok {
			continue // the test framework's own output
		}
		committed = append(committed, v)
		if len(committed) >= want && !killed {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited after %d records without being killed: %v", len(committed), err)
	}
	return committed
}

// TestCrashChild is the child's body; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dsn := os.Getenv(crashDSNEnv)
	if dsn == "" {
		t.Skip("only runs as the child of TestSQLiteSurvivesKill9")
	}
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		os.Exit(3)
	}
	var mu sync.Mutex
	ack := func(vs ...string) {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range vs {
			fmt.Fprintf(os.Stdout, "committed %s\n", v)
		}
	}
	var seq atomic.Int64
	next := func() store.Download {
		n := seq.Add(1)
		return store.Download{Name: "crash", Version: "1.0." + strconv.FormatInt(n, 10), Client: "10.0.0.1:1", Action: policy.Allow, Status: 200}
	}
	switch os.Getenv(crashModeEnv) {
	case "direct":
		// Several writers, each acknowledging a record only once
		// RecordDownload has returned.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					d := next()
					if err := s.RecordDownload(ctx, d); err != nil {
						fmt.Fprintln(os.Stderr, "child: record:", err)
						os.Exit(3)
					}
					ack(d.Version)
				}
			})
		}
		wg.Wait()
	case "batch":
		// Through the BatchRecorder, a record counts as committed only
		// once a Flush after it has returned.
		r := store.NewBatchRecorder(s, store.BatchOptions{MaxBatch: 64, MaxDelay: 5 * time.Millisecond})
		for {
			var pending []string
			for range 25 {
				d := next()
				if err := r.RecordDownload(ctx, d); err != nil {
					fmt.Fprintln(os.Stderr, "child: record:", err)
					os.Exit(3)
				}
				pending = append(pending, d.Version)
			}
			if err := r.Flush(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "child: flush:", err)
				os.Exit(3)
			}
			ack(pending...)
		}
	}
	os.Exit(4)
}
