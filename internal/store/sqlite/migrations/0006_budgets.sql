-- Budgets counted in the database when no Redis is shared: per subject
-- ("key:<id>"), period ("monthly") and window (the period's name for the
-- time, "2026-12"), what was spent and what calls in flight hold.
-- reserved is the sum of the count's reservations not yet released.
CREATE TABLE budget_counts (
	subject    TEXT NOT NULL,
	period     TEXT NOT NULL,
	win        TEXT NOT NULL,
	spent      INTEGER NOT NULL DEFAULT 0,
	reserved   INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL, -- Unix microseconds
	PRIMARY KEY (subject, period, win)
) WITHOUT ROWID;

-- A call's hold on each of its counts, released when it settles or, once
-- expired, by the next reservation on the count.
CREATE TABLE budget_reservations (
	subject    TEXT NOT NULL,
	period     TEXT NOT NULL,
	win        TEXT NOT NULL,
	id         TEXT NOT NULL,
	amount     INTEGER NOT NULL,
	expires_at INTEGER NOT NULL, -- Unix microseconds
	PRIMARY KEY (subject, period, win, id)
) WITHOUT ROWID;
CREATE INDEX budget_reservations_expiry ON budget_reservations (subject, period, win, expires_at);

-- A count is seeded with its window's spending in the ledger, summed per
-- key, team or tenant over a time span (tenant_id, at is in 0004).
CREATE INDEX usage_key_at ON usage (key_id, at);
CREATE INDEX usage_team_at ON usage (team_id, at);
