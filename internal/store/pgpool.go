package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// errClosed is returned by a store used after Close.
var errClosed = errors.New("store is closed")

// connPool is a small fixed-size pool of pgx connections. pgxpool would
// do, but it needs github.com/jackc/puddle/v2, which go.mod does not
// carry; the store needs only acquire/release with a cap, dropping broken
// connections, which is this much code.
type connPool struct {
	cfg   *pgx.ConnConfig
	slots chan struct{} // one token per connection open or being dialled

	mu     sync.Mutex
	idle   []*pgx.Conn
	closed bool
	wake   chan struct{} // signalled when a connection goes idle
}

func newConnPool(cfg *pgx.ConnConfig, size int) *connPool {
	return &connPool{cfg: cfg, slots: make(chan struct{}, size), wake: make(chan struct{}, size)}
}

// acquire returns an idle connection or dials a new one when under the
// cap; fresh reports which.
func (p *connPool) acquire(ctx context.Context) (c *pgx.Conn, fresh bool, err error) {
	for {
		if c, err := p.takeIdle(); c != nil || err != nil {
			return c, false, err
		}
		select {
		case p.slots <- struct{}{}:
			c, err := pgx.ConnectConfig(ctx, p.cfg)
			if err != nil {
				<-p.slots
				return nil, false, fmt.Errorf("connecting to PostgreSQL: %w", err)
			}
			return c, true, nil
		case <-p.wake:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

func (p *connPool) takeIdle() (*pgx.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errClosed
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return c, nil
	}
	return nil, nil
}

// release returns c to the pool, or closes it when it is broken, in the
// middle of something, or the pool is closed.
func (p *connPool) release(c *pgx.Conn) {
	healthy := !c.IsClosed() && !c.PgConn().IsBusy() && c.PgConn().TxStatus() == 'I'
	p.mu.Lock()
	if healthy && !p.closed {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		select {
		case p.wake <- struct{}{}:
		default:
		}
		return
	}
	p.mu.Unlock()
	closeConn(c)
	<-p.slots
	select { // a slot freed up: let a waiter dial
	case p.wake <- struct{}{}:
	default:
	}
}

// with runs fn on a pooled connection. When a connection that sat idle
// turns out to be dead (the server restarted) and nothing reached the
// server, fn is retried once on a fresh connection.
func (p *connPool) with(ctx context.Context, fn func(*pgx.Conn) error) error {
	for attempt := 0; ; attempt++ {
		c, fresh, err := p.acquire(ctx)
		if err != nil {
			return err
		}
		err = fn(c)
		dead := c.IsClosed()
		p.release(c)
		if err != nil && dead && !fresh && attempt == 0 && pgconn.SafeToRetry(err) {
			continue
		}
		return err
	}
}

func (p *connPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		closeConn(c)
		<-p.slots
	}
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Close(ctx) // nothing to do about a failed goodbye
}
