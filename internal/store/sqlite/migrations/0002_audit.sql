-- The audit log: append-only, numbered 1, 2, 3, ... without gaps, each
-- record sealed with an HMAC over the previous record's hash and its own
-- content (computed by the gateway, which holds the key).
CREATE TABLE audit (
	seq        INTEGER PRIMARY KEY,
	at         INTEGER NOT NULL, -- Unix microseconds
	actor      TEXT NOT NULL,
	action     TEXT NOT NULL,
	tenant_id  TEXT NOT NULL DEFAULT '',
	target     TEXT NOT NULL DEFAULT '',
	source     TEXT NOT NULL DEFAULT '',
	request_id TEXT NOT NULL DEFAULT '',
	before     TEXT,             -- JSON, kept byte for byte: the seal covers it
	after      TEXT,
	count      INTEGER NOT NULL DEFAULT 1,
	prev       BLOB,
	hash       BLOB NOT NULL
);
CREATE INDEX audit_tenant ON audit (tenant_id, seq);
CREATE INDEX audit_actor ON audit (actor, seq);
CREATE INDEX audit_at ON audit (at);

-- The last record appended, updated in the same transaction: appends
-- serialise on it, and a log cut at its end no longer matches it.
CREATE TABLE audit_head (
	single INTEGER PRIMARY KEY CHECK (single = 1),
	seq    INTEGER NOT NULL,
	hash   BLOB
);
INSERT INTO audit_head (single, seq, hash) VALUES (1, 0, NULL);
