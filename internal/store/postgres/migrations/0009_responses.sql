-- Responses of the Responses API stored for their tenant (store: true):
-- the turn's input items and the response object as its client got them,
-- both JSON text kept byte for byte (not jsonb, which reorders keys), and
-- the response the turn continued. A response past expires_at is never
-- returned and is purged.
CREATE TABLE responses (
	tenant_id   text NOT NULL,
	id          text NOT NULL,
	key_id      text NOT NULL DEFAULT '',
	model       text NOT NULL,
	previous_id text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL,
	input       text NOT NULL,
	response    text NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX responses_expiry ON responses (expires_at);
