-- Responses of the Responses API stored for their tenant (store: true):
-- the turn's input items and the response object as its client got them,
-- both JSON text, and the response the turn continued. Times are Unix
-- microseconds; a response past expires_at is never returned and is purged.
CREATE TABLE responses (
	tenant_id   TEXT NOT NULL,
	id          TEXT NOT NULL,
	key_id      TEXT NOT NULL DEFAULT '',
	model       TEXT NOT NULL,
	previous_id TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	input       TEXT NOT NULL,
	response    TEXT NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX responses_expiry ON responses (expires_at);
