-- The statements of the PostgreSQL store at schema 0009_responses.sql, one per line,
-- recorded from its test suite with -statements (compat_test.go).
DELETE FROM keys WHERE id = $1 RETURNING hash, prev_hash
DELETE FROM responses WHERE ctid IN (SELECT ctid FROM responses WHERE expires_at <= $1 LIMIT $2)
DELETE FROM responses WHERE tenant_id = $1 AND id = $2
DELETE FROM teams WHERE tenant_id = $1 AND id = $2
DELETE FROM tenants WHERE id = $1
INSERT INTO alert_attempts (delivery_id, n, at, status, error) VALUES ($1, $2, $3, $4, $5)
INSERT INTO alert_deliveries (id, tenant_id, type, payload, state, created_at, next_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
INSERT INTO alerts (subject, period, win, threshold, tenant_id, at, delivery_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
INSERT INTO audit (seq, at, actor, action, tenant_id, target, source, request_id, before, after, count, prev, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
INSERT INTO budget_counts (subject, period, win, spent, reserved, updated_at) VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT DO NOTHING
INSERT INTO keys (id, tenant_id, team_id, name, hash, prefix, models, expires_at, labels, role, created_at, last_used_at, revoked_at, prev_hash, prev_valid_until, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
INSERT INTO responses (tenant_id, id, key_id, model, previous_id, created_at, expires_at, input, response) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
INSERT INTO teams (id, tenant_id, name, created_at, budget_pico, budget_period) VALUES ($1, $2, $3, $4, $5, $6)
INSERT INTO tenants (id, name, labels, created_at, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
INSERT INTO usage (request_id, at, tenant_id, tenant, team_id, key_id, key_name, model, provider, upstream_model, input_tokens, output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_pico, cost_known, latency_us, ttft_us, status, stream, cache, usage_estimated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) ON CONFLICT (request_id) DO NOTHING
SELECT (floor(extract(epoch FROM at) / 3600)::bigint * 3600), count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cached_tokens), 0), coalesce(sum(cache_write_tokens), 0), coalesce(sum(reasoning_tokens), 0), coalesce(sum(cost_pico), 0), coalesce(sum(CASE WHEN cost_known THEN 0 ELSE 1 END), 0) FROM usage WHERE at >= $1 AND at < $2 AND tenant_id = $3 GROUP BY (floor(extract(epoch FROM at) / 3600)::bigint * 3600) ORDER BY (floor(extract(epoch FROM at) / 3600)::bigint * 3600) LIMIT $4
SELECT at FROM usage WHERE request_id = $1
SELECT attempts FROM alert_deliveries WHERE id = $1
SELECT c.subject, c.period, c.win, c.spent, c.reserved FROM budget_counts c, unnest($1::text[], $2::text[], $3::text[]) AS k (subject, period, win) WHERE c.subject = k.subject AND c.period = k.period AND c.win = k.win ORDER BY c.subject COLLATE "C", c.period COLLATE "C", c.win COLLATE "C" FOR UPDATE OF c
SELECT coalesce(max(c.spent), 0), coalesce((SELECT sum(r.amount) FROM budget_reservations r WHERE r.subject = $1 AND r.period = $2 AND r.win = $3 AND r.expires_at > $4), 0)::bigint FROM budget_counts c WHERE c.subject = $1 AND c.period = $2 AND c.win = $3
SELECT coalesce(sum(cost_pico), 0)::bigint FROM usage WHERE key_id = $1 AND cost_known
SELECT coalesce(sum(cost_pico), 0)::bigint FROM usage WHERE key_id = $1 AND cost_known AND at < $2
SELECT coalesce(sum(cost_pico), 0)::bigint FROM usage WHERE key_id = $1 AND cost_known AND at >= $2
SELECT coalesce(sum(cost_pico), 0)::bigint FROM usage WHERE key_id = $1 AND cost_known AND at >= $2 AND at < $3
SELECT coalesce(sum(cost_pico), 0)::bigint FROM usage WHERE team_id = $1 AND cost_known AND at >= $2 AND at < $3
SELECT coalesce(sum(cost_pico), 0)::bigint FROM usage WHERE tenant_id = $1 AND cost_known AND at >= $2
SELECT coalesce(sum(cost_pico), 0)::bigint FROM usage WHERE tenant_id = $1 AND cost_known AND at >= $2 AND at < $3
SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cached_tokens), 0), coalesce(sum(cache_write_tokens), 0), coalesce(sum(reasoning_tokens), 0), coalesce(sum(cost_pico), 0), coalesce(sum(CASE WHEN cost_known THEN 0 ELSE 1 END), 0) FROM usage LIMIT $1
SELECT current_schema()
SELECT delivery_id, n, at, status, error FROM alert_attempts WHERE delivery_id = $1 ORDER BY n
SELECT id, name, labels, created_at, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period FROM tenants WHERE id = $1 FOR UPDATE
SELECT id, name, labels, created_at, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period FROM tenants WHERE id = $1 OR name = $1 ORDER BY id = $1 DESC LIMIT 1
SELECT id, name, labels, created_at, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period FROM tenants WHERE id > $1 ORDER BY id LIMIT $2
SELECT id, tenant_id, name, created_at, budget_pico, budget_period FROM teams WHERE tenant_id = $1 AND id = $2
SELECT id, tenant_id, name, created_at, budget_pico, budget_period FROM teams WHERE tenant_id = $1 AND id = $2 FOR UPDATE
SELECT id, tenant_id, name, created_at, budget_pico, budget_period FROM teams WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3
SELECT id, tenant_id, team_id, name, hash, prefix, models, expires_at, labels, role, created_at, last_used_at, revoked_at, prev_hash, prev_valid_until, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period FROM keys WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR team_id = $2) AND id > $3 ORDER BY id LIMIT $4
SELECT id, tenant_id, team_id, name, hash, prefix, models, expires_at, labels, role, created_at, last_used_at, revoked_at, prev_hash, prev_valid_until, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period FROM keys WHERE hash = $1 OR (prev_hash = $1 AND prev_valid_until > $2) ORDER BY hash = $1 DESC LIMIT 1
SELECT id, tenant_id, team_id, name, hash, prefix, models, expires_at, labels, role, created_at, last_used_at, revoked_at, prev_hash, prev_valid_until, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period FROM keys WHERE id = $1
SELECT id, tenant_id, team_id, name, hash, prefix, models, expires_at, labels, role, created_at, last_used_at, revoked_at, prev_hash, prev_valid_until, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period FROM keys WHERE id = $1 FOR UPDATE
SELECT key_id, key_name, (floor(extract(epoch FROM at) / 86400)::bigint * 86400), count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cached_tokens), 0), coalesce(sum(cache_write_tokens), 0), coalesce(sum(reasoning_tokens), 0), coalesce(sum(cost_pico), 0), coalesce(sum(CASE WHEN cost_known THEN 0 ELSE 1 END), 0) FROM usage GROUP BY key_id, key_name, (floor(extract(epoch FROM at) / 86400)::bigint * 86400) ORDER BY key_id, key_name, (floor(extract(epoch FROM at) / 86400)::bigint * 86400) LIMIT $1
SELECT key_id, key_name, model, count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cached_tokens), 0), coalesce(sum(cache_write_tokens), 0), coalesce(sum(reasoning_tokens), 0), coalesce(sum(cost_pico), 0), coalesce(sum(CASE WHEN cost_known THEN 0 ELSE 1 END), 0) FROM usage GROUP BY key_id, key_name, model ORDER BY key_id, key_name, model LIMIT $1
SELECT n FROM change_counter
SELECT pg_advisory_lock($1)
SELECT pg_advisory_unlock($1)
SELECT pg_notify($1, $2)
SELECT r.tenant_id, r.id, r.key_id, r.model, r.previous_id, r.created_at, r.expires_at, r.input, r.response FROM responses r WHERE r.tenant_id = $1 AND r.id = $2 AND r.expires_at > $3
SELECT request_id, at, tenant_id, tenant, team_id, key_id, key_name, model, provider, upstream_model, input_tokens, output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_pico, cost_known, latency_us, ttft_us, status, stream, cache, usage_estimated FROM usage WHERE at >= $1 AND at < $2 AND (at, request_id) > ($3, $4) ORDER BY at, request_id LIMIT $5
SELECT request_id, at, tenant_id, tenant, team_id, key_id, key_name, model, provider, upstream_model, input_tokens, output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, cost_pico, cost_known, latency_us, ttft_us, status, stream, cache, usage_estimated FROM usage WHERE at >= $1 AND at < $2 ORDER BY at, request_id LIMIT $3
SELECT seq, at, actor, action, tenant_id, target, source, request_id, before, after, count, prev, hash FROM audit WHERE seq > $1 AND action = $2 ORDER BY seq LIMIT $3
SELECT seq, at, actor, action, tenant_id, target, source, request_id, before, after, count, prev, hash FROM audit WHERE seq > $1 AND actor = $2 ORDER BY seq LIMIT $3
SELECT seq, at, actor, action, tenant_id, target, source, request_id, before, after, count, prev, hash FROM audit WHERE seq > $1 AND at >= $2 AND at < $3 ORDER BY seq LIMIT $4
SELECT seq, at, actor, action, tenant_id, target, source, request_id, before, after, count, prev, hash FROM audit WHERE seq > $1 AND tenant_id = $2 AND actor = $3 AND at >= $4 ORDER BY seq LIMIT $5
SELECT seq, at, actor, action, tenant_id, target, source, request_id, before, after, count, prev, hash FROM audit WHERE seq > $1 AND tenant_id = $2 ORDER BY seq LIMIT $3
SELECT seq, at, actor, action, tenant_id, target, source, request_id, before, after, count, prev, hash FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2
SELECT seq, hash FROM audit_head WHERE single
SELECT seq, hash FROM audit_head WHERE single FOR UPDATE
SELECT seq, id, tenant_id, type, payload, state, attempts, status, error, created_at, last_at, next_at FROM alert_deliveries WHERE seq < $1 AND tenant_id = $3 ORDER BY seq DESC LIMIT $2
SELECT seq, id, tenant_id, type, payload, state, attempts, status, error, created_at, last_at, next_at FROM alert_deliveries WHERE seq < $1 ORDER BY seq DESC LIMIT $2
SELECT seq, kind, entity_id, hashes FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2
SELECT tenant_id, max(tenant), model, count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cached_tokens), 0), coalesce(sum(cache_write_tokens), 0), coalesce(sum(reasoning_tokens), 0), coalesce(sum(cost_pico), 0), coalesce(sum(CASE WHEN cost_known THEN 0 ELSE 1 END), 0) FROM usage GROUP BY tenant_id, model ORDER BY tenant_id, model LIMIT $1
UPDATE alert_deliveries SET attempts = $2, state = $3, status = $4, error = $5, last_at = $6, next_at = $7, lease_until = NULL WHERE id = $1 AND attempts = $2 - 1 AND state = 'pending'
UPDATE alert_deliveries SET lease_until = $2 WHERE id IN ( SELECT id FROM alert_deliveries WHERE state = 'pending' AND next_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) ORDER BY next_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING seq, id, tenant_id, type, payload, state, attempts, status, error, created_at, last_at, next_at
UPDATE audit_head SET seq = $1, hash = $2 WHERE single
UPDATE keys SET (id, tenant_id, team_id, name, hash, prefix, models, expires_at, labels, role, created_at, last_used_at, revoked_at, prev_hash, prev_valid_until, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period) = ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) WHERE id = $21
UPDATE keys k SET last_used_at = u.at FROM (SELECT id, max(at) AS at FROM unnest($1::text[], $2::timestamptz[]) AS t (id, at) GROUP BY id) u WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)
UPDATE teams SET (name, budget_pico, budget_period) = ($1, $2, $3) WHERE id = $4
UPDATE tenants SET (name, labels, limit_rpm, limit_tpm, limit_concurrent, budget_pico, budget_period) = ($1, $2, $3, $4, $5, $6, $7) WHERE id = $8
WITH RECURSIVE chain(id, previous_id, depth) AS ( SELECT id, previous_id, 0 FROM responses WHERE tenant_id = $1 AND id = $2 AND expires_at > $3 UNION ALL SELECT p.id, p.previous_id, c.depth + 1 FROM chain c JOIN responses p ON p.tenant_id = $1 AND p.id = c.previous_id WHERE c.previous_id <> '' AND c.depth + 1 < $4 AND p.expires_at > $3 ) SELECT r.tenant_id, r.id, r.key_id, r.model, r.previous_id, r.created_at, r.expires_at, r.input, r.response FROM chain c JOIN responses r ON r.tenant_id = $1 AND r.id = c.id ORDER BY c.depth DESC
WITH c AS (UPDATE change_counter SET n = n + 1 RETURNING n) INSERT INTO changes (seq, kind, entity_id, hashes, at) SELECT n, $1, $2, $3, $4 FROM c RETURNING seq
WITH gone AS ( DELETE FROM budget_reservations r USING unnest($1::text[], $2::text[], $3::text[]) AS k (subject, period, win) WHERE r.subject = k.subject AND r.period = k.period AND r.win = k.win AND r.expires_at <= $4 RETURNING r.subject, r.period, r.win, r.amount), sums AS (SELECT subject, period, win, sum(amount) AS amount FROM gone GROUP BY subject, period, win) UPDATE budget_counts c SET reserved = c.reserved - s.amount, updated_at = $4 FROM sums s WHERE c.subject = s.subject AND c.period = s.period AND c.win = s.win RETURNING c.subject, c.period, c.win, c.reserved
WITH gone AS ( DELETE FROM budget_reservations r USING unnest($1::text[], $2::text[], $3::text[]) AS k (subject, period, win) WHERE r.subject = k.subject AND r.period = k.period AND r.win = k.win AND r.id = $4 RETURNING r.subject, r.period, r.win, r.amount) UPDATE budget_counts c SET spent = c.spent + $5, updated_at = $6, reserved = c.reserved - coalesce((SELECT g.amount FROM gone g WHERE g.subject = c.subject AND g.period = c.period AND g.win = c.win), 0) FROM unnest($1::text[], $2::text[], $3::text[]) AS k (subject, period, win) WHERE c.subject = k.subject AND c.period = k.period AND c.win = k.win RETURNING c.subject, c.period, c.win, c.spent
WITH held AS ( INSERT INTO budget_reservations (subject, period, win, id, amount, expires_at) SELECT k.subject, k.period, k.win, $4, $5, $6 FROM unnest($1::text[], $2::text[], $3::text[]) AS k (subject, period, win)) UPDATE budget_counts c SET reserved = c.reserved + $5, updated_at = $7 FROM unnest($1::text[], $2::text[], $3::text[]) AS k (subject, period, win) WHERE c.subject = k.subject AND c.period = k.period AND c.win = k.win
