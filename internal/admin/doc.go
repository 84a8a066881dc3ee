// Package admin is the gateway's admin API under /admin/v1/, JSON behind
// "Authorization: Bearer <server.admin_token>". With no admin token
// configured the API does not exist: every admin route answers 404.
//
// The server mounts the handler and passes its one error writer, so admin
// errors have the same shape as every other error.
//
// Routes:
//
//	GET /admin/v1/targets   every model's targets with breaker state,
//	                        calls in flight, attempts, successes and
//	                        failures since the configuration was loaded,
//	                        moving average of time to first token,
//	                        rate-limit headroom and share
package admin
