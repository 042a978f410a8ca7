package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// BatchOptions tune a BatchRecorder; zero fields take the defaults.
type BatchOptions struct {
	// MaxBatch flushes once this many downloads are waiting (default 256).
	MaxBatch int
	// MaxDelay flushes a non-empty batch this long after its first
	// download arrived (default 50ms): the most a record waits for disk.
	MaxDelay time.Duration
	// Queue is how many downloads may wait before RecordDownload blocks
	// (default 8192). A full queue means the store cannot keep up or is
	// down; blocking pushes back on the proxy rather than dropping records
	// or growing memory without bound.
	Queue int
	// Logger receives write failures (default: discard).
	Logger *slog.Logger
}

// BatchRecorder records downloads asynchronously: RecordDownload queues
// the record and returns, and one goroutine writes the queue in batches
// (one transaction, one fsync per batch), so a proxy under load is not
// bound by commit latency. Flush waits until everything queued before it
// is committed; Close flushes, stops the writer and reports any records
// that could not be written. A failed batch is retried with backoff until
// it succeeds, so a store outage delays records but does not drop them;
// only Close gives up, after a few last attempts.
//
// The price of asynchrony: a record queued but not yet flushed is lost if
// the process is killed (kill -9) — at most MaxDelay's worth. Callers that
// need a record on disk before they answer call Flush, or use the Store
// directly.
type BatchRecorder struct {
	store  Store
	writer BatchWriter // nil: the store writes one record at a time
	opt    BatchOptions

	in       chan batchItem
	stopping chan struct{} // closed when Close starts
	done     chan struct{} // closed when the writer goroutine exits

	mu      sync.RWMutex // held for reading around sends on in
	closed  bool
	closeMu sync.Mutex
	lost    int   // records the writer gave up on
	lastErr error // the error they failed with
}

type batchItem struct {
	d     Download
	flush chan error // set for a Flush marker instead of a record
}

// NewBatchRecorder starts a recorder writing to s. It does not own s:
// close the recorder first, then the store.
func NewBatchRecorder(s Store, opt BatchOptions) *BatchRecorder {
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 256
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = 50 * time.Millisecond
	}
	if opt.Queue <= 0 {
		opt.Queue = 8192
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	b := &BatchRecorder{
		store:    s,
		opt:      opt,
		in:       make(chan batchItem, opt.Queue),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
	}
	b.writer, _ = s.(BatchWriter)
	go b.run()
	return b
}

// RecordDownload validates d, stamps its time if unset (the time of the
// download, not of the flush) and queues it.
func (b *BatchRecorder) RecordDownload(ctx context.Context, d Download) error {
	if err := checkDownload(&d, time.Now()); err != nil {
		return err
	}
	return b.send(ctx, batchItem{d: d})
}

// Flush returns once every download queued before the call is committed,
// with the error of the write that covered them.
func (b *BatchRecorder) Flush(ctx context.Context) error {
	ch := make(chan error, 1)
	if err := b.send(ctx, batchItem{flush: ch}); err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *BatchRecorder) send(ctx context.Context, it batchItem) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return fmt.Errorf("batch recorder: %w", errClosed)
	}
	select {
	case b.in <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-b.stopping:
		return fmt.Errorf("batch recorder: %w", errClosed)
	}
}

// Close writes everything queued and stops the writer. It returns an
// error when some records could not be written. Calling it again returns
// the same result.
func (b *BatchRecorder) Close() error {
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	if !b.closed {
		close(b.stopping) // wake senders blocked on a full queue
		b.mu.Lock()       // wait for sends in progress to finish
		b.closed = true
		close(b.in)
		b.mu.Unlock()
	}
	<-b.done
	if b.lost > 0 {
		return fmt.Errorf("batch recorder: %d downloads could not be written: %w", b.lost, b.lastErr)
	}
	return nil
}

func (b *BatchRecorder) run() {
	defer close(b.done)
	batch := make([]Download, 0, b.opt.MaxBatch)
	var waiters []chan error
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		timer.Stop()
		err := b.write(batch)
		for _, w := range waiters {
			w <- err
		}
		batch, waiters = batch[:0], waiters[:0]
	}
	for {
		select {
		case it, ok := <-b.in:
			switch {
			case !ok:
				flush()
				return
			case it.flush != nil:
				waiters = append(waiters, it.flush)
				flush()
			default:
				batch = append(batch, it.d)
				if len(batch) == 1 {
					timer.Reset(b.opt.MaxDelay)
				}
				if len(batch) >= b.opt.MaxBatch {
					flush()
				}
			}
		case <-timer.C:
			flush()
		}
	}
}

// write commits batch, retrying with backoff while the recorder is
// running and a few times more once it is closing.
func (b *BatchRecorder) write(batch []Download) error {
	if len(batch) == 0 {
		return nil
	}
	const closingAttempts = 3
	backoff := 50 * time.Millisecond
	written := 0 // records already committed by the one-at-a-time path
	for attempt, afterClose := 1, 0; ; attempt++ {
		n, err := b.writeOnce(batch[written:])
		written += n
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrInvalid) { // retrying cannot help
			b.lost += len(batch) - written
			b.lastErr = err
			b.opt.Logger.Error("dropping downloads the store refuses", "records", len(batch)-written, "err", err)
			return err
		}
		select {
		case <-b.stopping:
			afterClose++
		default:
		}
		b.opt.Logger.Error("writing downloads failed; retrying", "records", len(batch)-written, "attempt", attempt, "err", err)
		if afterClose >= closingAttempts {
			b.lost += len(batch) - written
			b.lastErr = err
			b.opt.Logger.Error("giving up on downloads at close", "records", len(batch)-written, "err", err)
			return err
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 5*time.Second)
	}
}

// writeOnce writes ds, returning how many were committed.
func (b *BatchRecorder) writeOnce(ds []Download) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if b.writer != nil {
		if err := b.writer.RecordDownloads(ctx, ds); err != nil {
			return 0, err
		}
		return len(ds), nil
	}
	for i, d := range ds {
		if err := b.store.RecordDownload(ctx, d); err != nil {
			if errors.Is(err, ErrInvalid) {
				continue // validated when queued; cannot succeed on retry
			}
			return i, err
		}
	}
	return len(ds), nil
}
