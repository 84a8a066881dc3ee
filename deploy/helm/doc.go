// Package helm checks the gateway's Helm chart, deploy/helm/llmgw; it has
// no code of its own.
//
// The tests run helm template with each values file of the chart's ci/
// directory (Helm's convention for test values), split the output into
// manifests and decode each one strictly — sigs.k8s.io/yaml to JSON, then
// encoding/json with DisallowUnknownFields — into the API type its
// apiVersion and kind name: k8s.io/api for the built-in kinds, and the
// Prometheus Operator's monitoring/v1 types for ServiceMonitor and
// PrometheusRule (that module requires the same k8s.io versions as the
// project, v0.37.2). A misspelt or misplaced field, or a kind the chart is
// not meant to render, fails. Then they check what a safe and working
// deployment needs: the three probes on the paths docs/health.md
// recommends, a non-root, read-only, unprivileged container with
// resources, selectors that select the pods, a PodDisruptionBudget when
// more than one pod may run, a grace period longer than the gateway's
// shutdown_timeout, checksum annotations exactly when the pods must roll,
// a NetworkPolicy that lets DNS, the store and Redis through, the
// PrometheusRule equal to deploy/prometheus's groups, and a ConfigMap that
// the gateway's own parser (internal/config) accepts in the environment
// the Secret gives the pods. helm lint --strict runs with each values file,
// and the values schema is checked to refuse misspelt keys.
//
// helm reads nothing outside the chart, so the rule files are copied into
// files/prometheus, and a test keeps the copies byte-equal to
// deploy/prometheus (a symlink would be followed by helm template but
// packaged as the link by helm package on some versions).
//
// The chart is checked with helm v4.3.2 (helm.sh/helm/v4, installed by
// .ci/run with go install), not the v3.22.0 DESIGN.md names, which is not
// available to the project. The chart is apiVersion v2 and uses nothing
// that helm 3 lacks. Without helm in PATH the tests skip, except under
// CI=true, where a missing helm fails them.
package helm
