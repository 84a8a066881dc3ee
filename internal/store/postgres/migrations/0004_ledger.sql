-- The usage ledger: one row per request, keyed by its request ID so that
-- a record written twice (replayed after a crash) counts once.
CREATE TABLE usage (
	request_id         text PRIMARY KEY,
	at                 timestamptz NOT NULL,
	tenant_id          text NOT NULL DEFAULT '',
	tenant             text NOT NULL DEFAULT '',
	team_id            text NOT NULL DEFAULT '',
	key_id             text NOT NULL DEFAULT '',
	key_name           text NOT NULL DEFAULT '',
	model              text NOT NULL DEFAULT '',
	provider           text NOT NULL DEFAULT '',
	upstream_model     text NOT NULL DEFAULT '',
	input_tokens       bigint NOT NULL DEFAULT 0,
	output_tokens      bigint NOT NULL DEFAULT 0,
	cached_tokens      bigint NOT NULL DEFAULT 0,
	cache_write_tokens bigint NOT NULL DEFAULT 0,
	reasoning_tokens   bigint NOT NULL DEFAULT 0,
	cost_pico          bigint NOT NULL DEFAULT 0,
	cost_known         boolean NOT NULL DEFAULT false,
	latency_us         bigint NOT NULL DEFAULT 0,
	ttft_us            bigint NOT NULL DEFAULT 0,
	status             integer NOT NULL DEFAULT 0,
	stream             boolean NOT NULL DEFAULT false,
	cache              text NOT NULL DEFAULT ''
);
CREATE INDEX usage_at ON usage (at);
CREATE INDEX usage_tenant_at ON usage (tenant_id, at);
