-- Budgets of tenants, teams and keys: at most budget_pico picodollars per
-- budget_period. NULLs are no budget, the only way to say so: both are set
-- or neither.
ALTER TABLE tenants ADD COLUMN budget_pico INTEGER CHECK (budget_pico > 0);
ALTER TABLE tenants ADD COLUMN budget_period TEXT CHECK (budget_period IS NULL
	OR budget_period IN ('daily', 'weekly', 'monthly', 'total') AND budget_pico IS NOT NULL);
ALTER TABLE teams ADD COLUMN budget_pico INTEGER CHECK (budget_pico > 0);
ALTER TABLE teams ADD COLUMN budget_period TEXT CHECK (budget_period IS NULL
	OR budget_period IN ('daily', 'weekly', 'monthly', 'total') AND budget_pico IS NOT NULL);
ALTER TABLE keys ADD COLUMN budget_pico INTEGER CHECK (budget_pico > 0);
ALTER TABLE keys ADD COLUMN budget_period TEXT CHECK (budget_period IS NULL
	OR budget_period IN ('daily', 'weekly', 'monthly', 'total') AND budget_pico IS NOT NULL);
