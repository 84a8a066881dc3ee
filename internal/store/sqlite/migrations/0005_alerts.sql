-- Alerts fired: one row per budget, window and threshold, so that an
-- alert is fired once.
CREATE TABLE alerts (
	subject     TEXT NOT NULL,
	period      TEXT NOT NULL,
	win         TEXT NOT NULL,
	threshold   INTEGER NOT NULL,
	tenant_id   TEXT NOT NULL DEFAULT '',
	at          INTEGER NOT NULL, -- Unix microseconds, like every time below
	delivery_id TEXT NOT NULL,
	PRIMARY KEY (subject, period, win, threshold)
);

-- The webhook deliveries: a queue. A pending delivery is due at next_at;
-- lease_until keeps the sender that took it its only sender while it
-- attempts.
CREATE TABLE alert_deliveries (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	id          TEXT NOT NULL UNIQUE,
	tenant_id   TEXT NOT NULL DEFAULT '',
	type        TEXT NOT NULL,
	payload     TEXT NOT NULL,
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	status      INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	last_at     INTEGER,
	next_at     INTEGER,
	lease_until INTEGER
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_at) WHERE state = 'pending';
CREATE INDEX alert_deliveries_tenant ON alert_deliveries (tenant_id, seq);

-- Every attempt of every delivery.
CREATE TABLE alert_attempts (
	delivery_id TEXT NOT NULL REFERENCES alert_deliveries (id),
	n           INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status      INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (delivery_id, n)
);
