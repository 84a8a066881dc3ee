package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// GetByHashSQL is the per-request lookup, for the test of its plan.
const GetByHashSQL = getByHash

// SpendQuery is the ledger's sum for a budget, for the test of its plan.
var SpendQuery = spendQuery

// OpenTraced is Open with every statement of the pool's connections
// passed to tracer, for the record of the statements the store issues.
func OpenTraced(ctx context.Context, dsn string, tracer pgx.QueryTracer) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.Tracer = tracer
	return open(ctx, cfg)
}
