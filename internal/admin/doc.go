// Package admin is the gateway's admin API under /admin/v1/, JSON behind
// "Authorization: Bearer <server.admin_token>". With no admin token
// configured the API does not exist: every admin route answers 404.
//
// The server mounts the handler and passes its one error writer, so admin
// errors have the same shape as every other error.
//
// Routes:
//
//	GET /admin/v1/targets   every model's targets with breaker state
//	                        (closed, half_open, open, or cooling_down
//	                        while an upstream's Retry-After holds the
//	                        target back) and cooldown_until, calls in
//	                        flight, attempts, successes and failures
//	                        since the configuration was loaded, moving
//	                        average of time to first token, rate-limit
//	                        headroom and share
//	POST /admin/v1/targets/reset
//	                        closes the breaker and ends the cool-down of
//	                        the targets chosen by a strict JSON body:
//	                        {"model": "gpt-4o-mini"} (every target of the
//	                        model), narrowed by "provider" and
//	                        "upstream_model", or {"all": true}. It answers
//	                        {"reset": N, "data": [{"model", "provider",
//	                        "upstream_model"}, ...]}; an unknown field is a
//	                        400 naming it, choosing no target a 404.
package admin
