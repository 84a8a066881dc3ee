// Package deploy holds the gateway's deployment and observability assets
// and the tests that keep them honest; it has no code of its own.
//
//   - grafana/: dashboards (JSON, Grafana's classic model) of traffic and
//     errors, latency and time to first token, tokens and cost by tenant,
//     provider health and breakers, rate limits and budgets, dependencies,
//     and SLO compliance. The data source is the dashboard variable
//     DS_PROMETHEUS, so that they load both by import and by provisioning.
//   - prometheus/: recording rules of the SLIs, the alert rules, and their
//     unit tests for promtool (prometheus/tests).
//   - alertmanager/: an example Alertmanager configuration routing alerts by
//     severity, with grouping and inhibition.
//   - helm/llmgw: the Helm chart, with its own tests in package helm
//     (deploy/helm), which render it and decode every manifest into the
//     Kubernetes API types.
//
// The tests here need no Prometheus tool: they decode every dashboard and
// rule file, check that each query names only metrics listed in
// docs/metrics.md (the list of what the gateway exports) or recorded by the
// rules, that every alert has a severity, a summary, a description and a
// runbook in docs/runbooks named after it, that every alert has a unit test,
// and that the Alertmanager example routes every severity the rules use.
// .ci/run runs promtool check rules, promtool test rules and amtool
// check-config on the same files.
//
// Query names are found by a tokenizer over PromQL rather than by the
// Prometheus parser, whose module would bring most of Prometheus into
// go.sum for one test: see metricNames for what it understands.
package deploy
