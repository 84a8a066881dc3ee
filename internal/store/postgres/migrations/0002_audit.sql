-- The audit log: append-only, numbered 1, 2, 3, ... without gaps, each
-- record sealed with an HMAC over the previous record's hash and its own
-- content (computed by the gateway, which holds the key). Before and after
-- are text, not jsonb: the seal covers their exact bytes.
CREATE TABLE audit (
	seq        bigint PRIMARY KEY,
	at         timestamptz NOT NULL,
	actor      text NOT NULL,
	action     text NOT NULL,
	tenant_id  text NOT NULL DEFAULT '',
	target     text NOT NULL DEFAULT '',
	source     text NOT NULL DEFAULT '',
	request_id text NOT NULL DEFAULT '',
	before     text,
	after      text,
	count      bigint NOT NULL DEFAULT 1,
	prev       bytea,
	hash       bytea NOT NULL
);
CREATE INDEX audit_tenant ON audit (tenant_id, seq);
CREATE INDEX audit_actor ON audit (actor, seq);
CREATE INDEX audit_at ON audit (at);

-- The last record appended, updated in the same transaction: appends from
-- every replica serialise on this row's lock, and a log cut at its end no
-- longer matches it.
CREATE TABLE audit_head (
	single boolean PRIMARY KEY DEFAULT true CHECK (single),
	seq    bigint NOT NULL,
	hash   bytea
);
INSERT INTO audit_head (single, seq, hash) VALUES (true, 0, NULL);
