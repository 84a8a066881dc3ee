-- Alerts fired: one row per budget, window and threshold, so that among
-- many replicas seeing a crossing exactly one fires it.
CREATE TABLE alerts (
	subject   text NOT NULL,
	period    text NOT NULL,
	win       text NOT NULL,
	threshold integer NOT NULL,
	tenant_id text NOT NULL DEFAULT '',
	at        timestamptz NOT NULL,
	delivery_id text NOT NULL,
	PRIMARY KEY (subject, period, win, threshold)
);

-- The webhook deliveries: a queue every replica takes from. A pending
-- delivery is due at next_at; lease_until keeps the replica that took it
-- its only sender while it attempts.
CREATE TABLE alert_deliveries (
	id          text PRIMARY KEY,
	tenant_id   text NOT NULL DEFAULT '',
	type        text NOT NULL,
	payload     text NOT NULL,
	state       text NOT NULL,
	attempts    integer NOT NULL DEFAULT 0,
	status      integer NOT NULL DEFAULT 0,
	error       text NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL,
	last_at     timestamptz,
	next_at     timestamptz,
	lease_until timestamptz,
	seq         bigserial NOT NULL UNIQUE
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_at) WHERE state = 'pending';
CREATE INDEX alert_deliveries_tenant ON alert_deliveries (tenant_id, seq);

-- Every attempt of every delivery.
CREATE TABLE alert_attempts (
	delivery_id text NOT NULL REFERENCES alert_deliveries (id),
	n           integer NOT NULL,
	at          timestamptz NOT NULL,
	status      integer NOT NULL DEFAULT 0,
	error       text NOT NULL DEFAULT '',
	PRIMARY KEY (delivery_id, n)
);
