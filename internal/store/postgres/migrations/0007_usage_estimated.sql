-- usage_estimated marks a record whose tokens are partly the gateway's
-- count rather than the upstream's report: a stream that ended early,
-- before the upstream reported its usage, billed for what it delivered.
ALTER TABLE usage ADD COLUMN usage_estimated boolean NOT NULL DEFAULT false;
