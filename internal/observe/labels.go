package observe

// labelValues says, for every label of the process's metrics, where its
// values come from and what bounds their number: docs/metrics.md is
// generated from it (Markdown), and a label missing here fails that
// generation. A key "metric/label" holds for that metric's label alone,
// ahead of the plain "label" that holds for every other metric.
//
// A label's values must come from the configuration, the store or a fixed
// table of the code, never from a request: a client must not be able to
// make a series of its own.
var labelValues = map[string]string{
	"route":                    "the pattern of the route that matched (`/v1/chat/completions`, `/v1/messages`, `/v1/responses`, `/v1/responses/{id}`, `/v1/completions`, `/v1/embeddings`, `/v1/models`, `/healthz`, `/metrics` ...); `/admin` for every admin API route; `other` for a path no route serves. Bounded: the gateway's fixed set of routes.",
	"model":                    "a configured model name: the pattern (`openai/*`) for a wildcard model, never the id a client asked for under it. For a request, the model that serves the name it asked for; `\"\"` for a name no model serves. Bounded by the configured models.",
	"provider":                 "a configured provider name (`providers[].name`): for a request, the provider that answered it, `\"\"` when none did; for a target, its provider. Bounded by the configured providers.",
	"status_class":             "`1xx` to `5xx`; a client gone before an answer is `4xx` (499).",
	"code":                     "the error code the gateway wrote, from its fixed table of error codes (`rate_limit_exceeded`, `budget_exceeded`, `model_not_found`, `upstream_error`, ...); `\"\"` on success.",
	"tenant":                   "the caller's tenant name: a static key's configured `tenant`, or the name of a stored key's tenant; `\"\"` without a key, and for a JWT (its tenant claim is the issuer's text, not a name the gateway knows). Bounded by the configured and stored tenants.",
	"fallback":                 "the configured name of the fallback model tried. Bounded by the configured models.",
	"outcome":                  "`success`, `timeout`, `unavailable`, `error`, `rate_limited`, `unauthorized`, `context_length`, `content_policy`, `canceled`, `rejected`: a fixed set.",
	"target":                   "a target of the model: its upstream model id and its index among the model's targets (`gpt-4o-mini#0`; `*#0` for a wildcard target), or, for a target of a routing rule, among the rule's, after the rule's name (`gpt-4o#canary/0`). Bounded by the configured targets.",
	"rule":                     "the name of a model's routing rule (`models[].routes[].name`). Bounded by the configured routes.",
	"version":                  "the Go version the binary was built with: one value.",
	"llmgw_build_info/version": "the gateway's version as `llmgw version` prints it (`v1.2.3`, a module pseudo-version, or `devel`): one value per binary.",
	"commit":                   "the commit the binary was built from, as `llmgw version` prints it (empty when unknown): one value per binary.",

	"llmgw_tokens_total/type":           "`input`, `output`, `cached` (input tokens read from the upstream's prompt cache, also counted in `input`), `reasoning` (output tokens spent reasoning, also counted in `output`).",
	"llmgw_rejections_total/reason":     "`rate_limit` (requests or tokens per minute), `concurrency`, `budget`, `cost_cap`, `model_not_allowed`, `overloaded` (over the replica's concurrency ceiling, refused before authentication: tenant `\"\"`): a fixed set.",
	"llmgw_fallbacks_total/reason":      "`error`, `context_window`, `content_policy`: a fixed set.",
	"llmgw_config_reloads_total/result": "`success` or `failure`.",
	"kind":                              "the concurrency ceiling: `requests` (`server.max_concurrent_requests`) or `streams` (`server.max_open_streams`).",
	"llmgw_config_info/hash":            "the running configuration's hash (`sha256:...` of the effective configuration, secrets redacted), as `GET /admin/v1/config` shows it: one series at a time, replaced on each reload that changes it.",

	// The labels agreed for the metrics of the dependencies, health checks
	// and secrets.
	"driver":     "the store's driver: `sqlite` or `postgres`.",
	"op":         "the store operation: a fixed set of the store's methods.",
	"client":     "the gateway's Redis client: `limits`, `idempotency`, `cache`: a fixed set.",
	"command":    "the Redis command: a fixed set of the commands and scripts the gateway sends.",
	"state":      "the connection's state: `open`, `idle`, `in_use`.",
	"dependency": "the dependency the readiness check covers: a fixed set (`store`, `redis`, ...).",
	"source":     "the scheme of the secret reference fetched: `file`, `vault`, `aws-sm`, `azure-kv`.",
	"result":     "`success` or `error`.",
}

// LabelValues returns what the values of label are on metric, and false
// when that is not documented.
func LabelValues(metric, label string) (string, bool) {
	if v, ok := labelValues[metric+"/"+label]; ok {
		return v, true
	}
	v, ok := labelValues[label]
	return v, ok
}
