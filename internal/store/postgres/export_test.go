package postgres

// GetByHashSQL is the per-request lookup, for the test of its plan.
const GetByHashSQL = getByHash

// SpendQuery is the ledger's sum for a budget, for the test of its plan.
var SpendQuery = spendQuery
