-- Tenants own teams and keys. The name is unique because the admin API and
-- the config file name tenants by it.
CREATE TABLE tenants (
	id         text PRIMARY KEY,
	name       text NOT NULL UNIQUE,
	labels     jsonb NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL
);

-- Teams group a tenant's keys. UNIQUE (tenant_id, id) exists so that keys
-- can refer to (tenant, team) and never to another tenant's team.
CREATE TABLE teams (
	id         text PRIMARY KEY,
	tenant_id  text NOT NULL REFERENCES tenants (id),
	name       text NOT NULL,
	created_at timestamptz NOT NULL,
	UNIQUE (tenant_id, name),
	UNIQUE (tenant_id, id)
);

CREATE TABLE keys (
	id               text PRIMARY KEY,
	tenant_id        text NOT NULL REFERENCES tenants (id),
	team_id          text,
	name             text NOT NULL,
	hash             bytea NOT NULL UNIQUE, -- the per-request lookup
	prefix           text NOT NULL,
	models           text[],                -- NULL = every model, '{}' = none
	expires_at       timestamptz,
	labels           jsonb NOT NULL DEFAULT '{}',
	role             text NOT NULL DEFAULT '',
	created_at       timestamptz NOT NULL,
	last_used_at     timestamptz,
	revoked_at       timestamptz,
	prev_hash        bytea,
	prev_valid_until timestamptz,
	UNIQUE (tenant_id, name),
	FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id)
);

-- The lookup by a hash replaced in a rotation, during its grace.
CREATE INDEX keys_prev_hash ON keys (prev_hash) WHERE prev_hash IS NOT NULL;
-- Listing a tenant's or a team's keys in ID order.
CREATE INDEX keys_tenant ON keys (tenant_id, id);
CREATE INDEX keys_team ON keys (team_id, id) WHERE team_id IS NOT NULL;

-- One row holding the last change number. Writers take it with an UPDATE,
-- whose row lock they hold until they commit: numbers are handed out in
-- commit order, so that a poller that has seen number N can never later
-- find a smaller one appear (as it could with a sequence, whose numbers
-- are taken before commit and may commit out of order).
CREATE TABLE change_counter (
	single boolean PRIMARY KEY DEFAULT true CHECK (single),
	n      bigint NOT NULL
);
INSERT INTO change_counter (single, n) VALUES (true, 0);

-- Every write to a tenant, team or key, in order: replicas poll it for
-- what changed since the number they saw last.
CREATE TABLE changes (
	seq       bigint PRIMARY KEY,
	kind      text NOT NULL,
	entity_id text NOT NULL,
	hashes    bytea[], -- a key's hashes before and after
	at        timestamptz NOT NULL
);
