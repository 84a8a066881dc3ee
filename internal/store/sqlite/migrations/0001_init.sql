-- Tenants own teams and keys. The name is unique because the admin API and
-- the config file name tenants by it.
CREATE TABLE tenants (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	labels     TEXT NOT NULL DEFAULT '{}', -- JSON object
	created_at INTEGER NOT NULL           -- Unix microseconds, as every time here
);

-- Teams group a tenant's keys. UNIQUE (tenant_id, id) exists so that keys
-- can refer to (tenant, team) and never to another tenant's team.
CREATE TABLE teams (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL REFERENCES tenants (id),
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (tenant_id, name),
	UNIQUE (tenant_id, id)
);

CREATE TABLE keys (
	id               TEXT PRIMARY KEY,
	tenant_id        TEXT NOT NULL REFERENCES tenants (id),
	team_id          TEXT,
	name             TEXT NOT NULL,
	hash             BLOB NOT NULL UNIQUE, -- the per-request lookup
	prefix           TEXT NOT NULL,
	models           TEXT,                 -- JSON array; NULL = every model, '[]' = none
	expires_at       INTEGER,
	labels           TEXT NOT NULL DEFAULT '{}',
	role             TEXT NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL,
	last_used_at     INTEGER,
	revoked_at       INTEGER,
	prev_hash        BLOB,
	prev_valid_until INTEGER,
	UNIQUE (tenant_id, name),
	FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id)
);

-- The lookup by a hash replaced in a rotation, during its grace.
CREATE INDEX keys_prev_hash ON keys (prev_hash) WHERE prev_hash IS NOT NULL;
-- Listing a tenant's or a team's keys in ID order.
CREATE INDEX keys_tenant ON keys (tenant_id, id);
CREATE INDEX keys_team ON keys (team_id, id) WHERE team_id IS NOT NULL;

-- Every write to a tenant, team or key, in order: replicas poll it for
-- what changed since the sequence number they saw last.
CREATE TABLE changes (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	kind      TEXT NOT NULL,
	entity_id TEXT NOT NULL,
	hashes    TEXT, -- a key's hashes before and after, JSON array of base64
	at        INTEGER NOT NULL
);
