-- Budgets of tenants, teams and keys: at most budget_pico picodollars per
-- budget_period. NULLs are no budget, the only way to say so: both are set
-- or neither.
ALTER TABLE tenants
	ADD COLUMN budget_pico   bigint CHECK (budget_pico > 0),
	ADD COLUMN budget_period text CHECK (budget_period IN ('daily', 'weekly', 'monthly', 'total')),
	ADD CONSTRAINT tenants_budget_whole CHECK ((budget_pico IS NULL) = (budget_period IS NULL));
ALTER TABLE teams
	ADD COLUMN budget_pico   bigint CHECK (budget_pico > 0),
	ADD COLUMN budget_period text CHECK (budget_period IN ('daily', 'weekly', 'monthly', 'total')),
	ADD CONSTRAINT teams_budget_whole CHECK ((budget_pico IS NULL) = (budget_period IS NULL));
ALTER TABLE keys
	ADD COLUMN budget_pico   bigint CHECK (budget_pico > 0),
	ADD COLUMN budget_period text CHECK (budget_period IN ('daily', 'weekly', 'monthly', 'total')),
	ADD CONSTRAINT keys_budget_whole CHECK ((budget_pico IS NULL) = (budget_period IS NULL));
