package cli

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports finished jobs. It is safe for concurrent use.
type progress interface {
	done()
	finish()
}

// newProgress returns a progress bar on w when show is set (stderr is a
// terminal and --quiet was not given), else one that writes nothing. The
// bar never goes to stdout, where reports go.
func newProgress(w io.Writer, show bool, total int) progress {
	if !show {
		return noProgress{}
	}
	return &barProgress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("analysing"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
	)}
}

// stderrIsTerminal reports whether w is a terminal. /dev/null is a
// character device too, so this asks the terminal driver rather than the
// file mode.
func stderrIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

type noProgress struct{}

func (noProgress) done()   {}
func (noProgress) finish() {}

type barProgress struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

func (p *barProgress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Add(1)
}

func (p *barProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Finish()
}
