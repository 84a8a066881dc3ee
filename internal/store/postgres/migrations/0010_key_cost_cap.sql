-- Cost cap of keys: the most one request may be estimated to cost, in
-- picodollars. NULL is no cap, the only way to say so: a cap is positive.
ALTER TABLE keys ADD COLUMN max_cost_pico bigint CHECK (max_cost_pico > 0);
