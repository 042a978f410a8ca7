package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-sec/vigil/internal/store/storetest"
)

// postgresURL is the test server: $VIGIL_TEST_POSTGRES, else the local
// one CI provides (trust auth, database test).
func postgresURL() string {
	if u := os.Getenv("VIGIL_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// connectAdmin connects to the test server, skipping the test when it is
// unreachable unless $VIGIL_REQUIRE_POSTGRES is set (CI sets it, so a
// broken service fails the build instead of silently testing less).
func connectAdmin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, postgresURL())
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_POSTGRES") != "" {
			t.Fatalf("PostgreSQL required ($VIGIL_REQUIRE_POSTGRES is set) but unreachable at %s: %v", postgresURL(), err)
		}
		t.Skipf("PostgreSQL unreachable at %s (%v); skipping. Set $VIGIL_REQUIRE_POSTGRES=1 to make this a failure, $VIGIL_TEST_POSTGRES to point elsewhere.", postgresURL(), err)
	}
	return c
}

// newSchemaDSN creates a schema of its own for one test and returns a DSN
// whose search_path puts the store's tables in it; the schema is dropped
// when the test ends, so parallel tests and runs never collide.
func newSchemaDSN(t testing.TB) string {
	t.Helper()
	admin := connectAdmin(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "vigil_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close(ctx)
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		admin.Close(ctx)
	})
	u, err := url.Parse(postgresURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func rawPostgres(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

var postgresBackend = storetest.Backend{
	Name:   "postgres",
	NewDSN: func(t *testing.T) string { return newSchemaDSN(t) },
	Exec: func(t *testing.T, dsn, query string) {
		t.Helper()
		if _, err := rawPostgres(t, dsn).Exec(t.Context(), query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	},
	QueryInt: func(t *testing.T, dsn, query string) int {
		t.Helper()
		var n int
		if err := rawPostgres(t, dsn).QueryRow(t.Context(), query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	},
}

func TestPostgres(t *testing.T) {
	connectAdmin(t).Close(context.Background()) // skip the whole suite at once when unreachable
	storetest.Run(t, postgresBackend)
}
