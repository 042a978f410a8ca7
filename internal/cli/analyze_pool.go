package cli

import (
	"context"
	"sync"

	"github.com/vigil-sec/vigil/internal/report"
)

// runPool runs the jobs on at most workers goroutines and returns their
// results in job order. When ctx is cancelled no new job starts; the jobs
// running see the cancelled ctx (reads, downloads and the analysis all
// check it) and return promptly, and the caller checks ctx.
func runPool(ctx context.Context, jobs []analyzeJob, workers int, prog progress) []report.AnalyzeResult {
	results := make([]report.AnalyzeResult, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(jobs)) {
		wg.Go(func() {
			for i := range next {
				results[i] = jobs[i].run(ctx)
				prog.done()
			}
		})
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return results
}
