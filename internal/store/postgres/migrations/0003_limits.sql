-- Rate limits of keys and tenants: requests per minute, tokens per minute,
-- requests in flight. NULL is no limit, the only way to say so: a limit
-- is positive.
ALTER TABLE tenants
	ADD COLUMN limit_rpm        bigint CHECK (limit_rpm > 0),
	ADD COLUMN limit_tpm        bigint CHECK (limit_tpm > 0),
	ADD COLUMN limit_concurrent bigint CHECK (limit_concurrent > 0);
ALTER TABLE keys
	ADD COLUMN limit_rpm        bigint CHECK (limit_rpm > 0),
	ADD COLUMN limit_tpm        bigint CHECK (limit_tpm > 0),
	ADD COLUMN limit_concurrent bigint CHECK (limit_concurrent > 0);
