package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"
)

// errClosed is returned by a store used after Close.
var errClosed = errors.New("store is closed")

// connPool lends pgx connections from a pgxpool, which caps them, health-
// checks idle ones and drops broken ones.
type connPool struct {
	pool *pgxpool.Pool
}

func newConnPool(cfg *pgx.ConnConfig, size int) (*connPool, error) {
	pc, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, err
	}
	pc.ConnConfig = cfg
	pc.MaxConns = int32(size)
	p, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, err
	}
	return &connPool{pool: p}, nil
}

// with runs fn on a pooled connection. When the connection turns out to
// be dead (the server restarted) and nothing reached the server, fn is
// retried once on another connection.
func (p *connPool) with(ctx context.Context, fn func(*pgx.Conn) error) error {
	if p == nil || p.pool == nil {
		return errClosed
	}
	for attempt := 0; ; attempt++ {
		var dead bool
		err := p.pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error {
			err := fn(c.Conn())
			dead = c.Conn().IsClosed()
			return err
		})
		if err != nil && dead && attempt == 0 && pgconn.SafeToRetry(err) {
			continue
		}
		if errors.Is(err, puddle.ErrClosedPool) {
			return errClosed
		}
		return err
	}
}

func (p *connPool) close() {
	if p != nil && p.pool != nil {
		p.pool.Close()
	}
}
