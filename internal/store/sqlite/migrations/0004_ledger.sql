-- The usage ledger: one row per request, keyed by its request ID so that
-- a record written twice (replayed after a crash) counts once.
CREATE TABLE usage (
	request_id         TEXT PRIMARY KEY,
	at                 INTEGER NOT NULL, -- Unix microseconds
	tenant_id          TEXT NOT NULL DEFAULT '',
	tenant             TEXT NOT NULL DEFAULT '',
	team_id            TEXT NOT NULL DEFAULT '',
	key_id             TEXT NOT NULL DEFAULT '',
	key_name           TEXT NOT NULL DEFAULT '',
	model              TEXT NOT NULL DEFAULT '',
	provider           TEXT NOT NULL DEFAULT '',
	upstream_model     TEXT NOT NULL DEFAULT '',
	input_tokens       INTEGER NOT NULL DEFAULT 0,
	output_tokens      INTEGER NOT NULL DEFAULT 0,
	cached_tokens      INTEGER NOT NULL DEFAULT 0,
	cache_write_tokens INTEGER NOT NULL DEFAULT 0,
	reasoning_tokens   INTEGER NOT NULL DEFAULT 0,
	cost_pico          INTEGER NOT NULL DEFAULT 0,
	cost_known         INTEGER NOT NULL DEFAULT 0,
	latency_us         INTEGER NOT NULL DEFAULT 0,
	ttft_us            INTEGER NOT NULL DEFAULT 0,
	status             INTEGER NOT NULL DEFAULT 0,
	stream             INTEGER NOT NULL DEFAULT 0,
	cache              TEXT NOT NULL DEFAULT ''
);
CREATE INDEX usage_at ON usage (at);
CREATE INDEX usage_tenant_at ON usage (tenant_id, at);
