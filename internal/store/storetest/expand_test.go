package storetest

import (
	"strings"
	"testing"
)

func TestExpandOnlyAccepts(t *testing.T) {
	for _, body := range []string{
		`CREATE TABLE things (id text PRIMARY KEY, n bigint NOT NULL); -- a new table
		 CREATE UNIQUE INDEX things_n ON things (n);
		 ALTER TABLE things ADD CONSTRAINT things_n_positive CHECK (n > 0);`,
		`ALTER TABLE keys ADD COLUMN max_cost_pico bigint CHECK (max_cost_pico > 0);`,
		`ALTER TABLE usage ADD COLUMN usage_estimated boolean NOT NULL DEFAULT false;`,
		`ALTER TABLE keys ADD COLUMN budget_period TEXT CHECK (budget_period IS NULL
			OR budget_period IN ('daily') AND budget_pico IS NOT NULL);`,
		`ALTER TABLE tenants
			ADD COLUMN budget_pico   bigint CHECK (budget_pico > 0),
			ADD COLUMN budget_period text CHECK (budget_period IN ('daily', 'weekly')),
			ADD CONSTRAINT tenants_budget_whole CHECK ((budget_pico IS NULL) = (budget_period IS NULL));`,
		`CREATE INDEX keys_by_name ON keys (name);
		 UPDATE keys SET role = 'x; DROP TABLE keys' WHERE role = '';`,
		"-- contract: keys.legacy unused since the release before\nALTER TABLE keys DROP COLUMN legacy;",
	} {
		if p := ExpandOnly("m.sql", body); len(p) > 0 {
			t.Errorf("refused %q: %v", body, p)
		}
	}
}

func TestExpandOnlyRefuses(t *testing.T) {
	for body, want := range map[string]string{
		`DROP TABLE usage;`:                                                     "drops",
		`DROP INDEX keys_hash;`:                                                 "drops",
		`ALTER TABLE keys DROP COLUMN prefix;`:                                  "drops a column",
		`ALTER TABLE keys ALTER COLUMN role DROP DEFAULT;`:                      "drops a column or a default",
		`ALTER TABLE keys RENAME COLUMN prefix TO key_prefix;`:                  "renames",
		`ALTER TABLE keys RENAME TO virtual_keys;`:                              "renames",
		`ALTER TABLE usage ALTER COLUMN model TYPE varchar(64);`:                "type",
		`ALTER TABLE usage ALTER model SET DATA TYPE varchar(64);`:              "type",
		`ALTER TABLE keys ALTER COLUMN team_id SET NOT NULL;`:                   "NOT NULL",
		`ALTER TABLE keys ADD COLUMN owner text NOT NULL;`:                      "without a default",
		`ALTER TABLE keys ADD owner text NOT NULL;`:                             "without a default",
		`ALTER TABLE keys ADD CONSTRAINT keys_prefix CHECK (prefix <> '');`:     "check constraint on column prefix",
		`ALTER TABLE keys ADD CONSTRAINT keys_name UNIQUE (tenant_id, name);`:   "unique constraint on column tenant_id",
		`ALTER TABLE keys ADD COLUMN a int, ADD CHECK (a > b);`:                 "column b",
		`CREATE UNIQUE INDEX keys_name ON keys (tenant_id, name);`:              "unique index on keys",
		`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS k ON ONLY keys (name);`: "unique index on keys",
		`TRUNCATE usage;`: "empties",
	} {
		p := ExpandOnly("m.sql", body)
		if len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), want) {
			t.Errorf("%q: got %v, want a problem containing %q", body, p, want)
		}
	}
}
