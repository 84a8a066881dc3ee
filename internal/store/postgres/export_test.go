package postgres

// GetByHashSQL is the per-request lookup, for the test of its plan.
const GetByHashSQL = getByHash
