package helm

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmgw/llmgw/internal/config"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// existingSecretEnv stands for the Secret an operator manages, for the
// values files that name one (secrets.existingSecret): the variables the
// configuration references.
var existingSecretEnv = map[string]string{
	"LLMGW_ADMIN_TOKEN": "admin-token-0123456789abcdef",
	"LLMGW_SECRET":      "server-secret-0123456789abcdef-0123456789",
	"LLMGW_STORAGE_DSN": "postgres://llmgw@postgres:5432/llmgw",
	"LLMGW_REDIS_URL":   "redis://redis:6379/0",
	"OPENAI_API_KEY":    "sk-test",
}

// chartValues are the values a file sets that the invariants depend on.
type chartValues struct {
	ReplicaCount int `json:"replicaCount"`
	Config       struct {
		HotReload *bool `json:"hotReload"`
	} `json:"config"`
	Secrets struct {
		ExistingSecret string `json:"existingSecret"`
	} `json:"secrets"`
	Storage struct {
		Driver string `json:"driver"`
	} `json:"storage"`
	Redis struct {
		Enabled bool `json:"enabled"`
	} `json:"redis"`
	Persistence struct {
		Enabled bool `json:"enabled"`
	} `json:"persistence"`
	Autoscaling struct {
		Enabled bool `json:"enabled"`
	} `json:"autoscaling"`
}

// values reads the chart's defaults under the values file, as helm merges
// them for the keys above.
func values(t *testing.T, file string) chartValues {
	t.Helper()
	var v chartValues
	for _, f := range []string{filepath.Join(chartDir, "values.yaml"), file} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return v
}

// The rendered objects keep the properties a safe, working deployment
// needs, with each values file.
func TestInvariants(t *testing.T) {
	bin := helm(t)
	for _, f := range valuesFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			v := values(t, f)
			objs := render(t, bin, f)
			dep := one[appsv1.Deployment](t, objs)
			checkPod(t, dep)
			checkStrategy(t, v, dep)
			checkService(t, objs, dep)
			checkPDB(t, v, objs, dep)
			cfg := checkConfig(t, v, objs)
			checkGracePeriod(t, cfg, dep)
			checkChecksums(t, v, dep)
			checkNetworkPolicy(t, v, objs)
			checkMonitoring(t, objs, dep)
			checkIngress(t, objs)
			checkMemLimit(t, dep)
		})
	}
}

// probePaths are the probes docs/health.md recommends.
var probePaths = map[string]string{"startup": "/startupz", "liveness": "/healthz", "readiness": "/readyz"}

func checkPod(t *testing.T, dep *appsv1.Deployment) {
	t.Helper()
	pod := dep.Spec.Template.Spec
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext: %+v", sc)
	}
	if pod.AutomountServiceAccountToken == nil {
		t.Error("automountServiceAccountToken is not set")
	}
	if len(pod.Containers) == 0 {
		t.Fatal("no container")
	}
	for _, c := range pod.Containers {
		for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != probePaths[name] || p.HTTPGet.Port.String() != "http" {
				t.Errorf("container %s: %s probe %+v, want GET %s on port http", c.Name, name, p, probePaths[name])
			}
		}
		sc := c.SecurityContext
		if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") ||
			sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("container %s: securityContext %+v", c.Name, sc)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				t.Errorf("container %s: no %s request", c.Name, r)
			}
			if _, ok := c.Resources.Limits[r]; !ok && r == corev1.ResourceMemory {
				t.Errorf("container %s: no %s limit", c.Name, r)
			}
		}
		if !slices.Contains(c.Args, "serve") || argAfter(c.Args, "--config") != "/etc/llmgw/llmgw.yaml" || argAfter(c.Args, "--listen") != "0.0.0.0:8080" {
			t.Errorf("container %s: args %q", c.Name, c.Args)
		}
		if !mounts(c, "/var/lib/llmgw") || !mounts(c, "/etc/llmgw") {
			t.Errorf("container %s: mounts %+v", c.Name, c.VolumeMounts)
		}
	}
}

func argAfter(args []string, flag string) string {
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

func mounts(c corev1.Container, path string) bool {
	return slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == path })
}

// checkStrategy: SQLite on a volume has one writer (Recreate); otherwise a
// rolling update that never lowers the serving pods.
func checkStrategy(t *testing.T, v chartValues, dep *appsv1.Deployment) {
	t.Helper()
	s := dep.Spec.Strategy
	if v.Storage.Driver == "sqlite" && v.Persistence.Enabled {
		if s.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("SQLite on a volume: strategy %+v, want Recreate", s)
		}
		return
	}
	if s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate == nil ||
		s.RollingUpdate.MaxUnavailable == nil || s.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("strategy %+v, want RollingUpdate with maxUnavailable 0", s)
	}
}

// selects reports whether the selector picks the pods of dep.
func selects(t *testing.T, sel map[string]string, dep *appsv1.Deployment) bool {
	t.Helper()
	return len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(dep.Spec.Template.Labels))
}

func checkService(t *testing.T, objs []object, dep *appsv1.Deployment) {
	t.Helper()
	svc := one[corev1.Service](t, objs)
	if !selects(t, svc.Spec.Selector, dep) {
		t.Errorf("Service selector %v does not match the pod labels %v", svc.Spec.Selector, dep.Spec.Template.Labels)
	}
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("Deployment selector %v does not match its pod labels (%v)", dep.Spec.Selector, err)
	}
	for _, p := range svc.Spec.Ports {
		if !slices.ContainsFunc(dep.Spec.Template.Spec.Containers[0].Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.TargetPort.String() }) {
			t.Errorf("Service port %s targets %s, which the container does not name", p.Name, p.TargetPort.String())
		}
	}
}

// checkPDB: a PodDisruptionBudget exists when more than one pod may run,
// and selects them.
func checkPDB(t *testing.T, v chartValues, objs []object, dep *appsv1.Deployment) {
	t.Helper()
	pdbs := only[policyv1.PodDisruptionBudget](objs)
	hpas := only[autoscalingv2.HorizontalPodAutoscaler](objs)
	if (len(hpas) > 0) != v.Autoscaling.Enabled {
		t.Errorf("autoscaling.enabled %t, %d HorizontalPodAutoscalers", v.Autoscaling.Enabled, len(hpas))
	}
	many := v.ReplicaCount > 1 || len(hpas) > 0
	if many != (len(pdbs) == 1) || len(pdbs) > 1 {
		t.Fatalf("replicas %d, autoscaling %t: %d PodDisruptionBudgets", v.ReplicaCount, len(hpas) > 0, len(pdbs))
	}
	for _, p := range pdbs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
			t.Errorf("PodDisruptionBudget selector %v does not select the pods (%v)", p.Spec.Selector, err)
		}
		if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
			t.Errorf("PodDisruptionBudget: want one of minAvailable and maxUnavailable: %+v", p.Spec)
		}
	}
	for _, h := range hpas {
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != dep.Name {
			t.Errorf("HorizontalPodAutoscaler scales %+v", h.Spec.ScaleTargetRef)
		}
		for _, m := range h.Spec.Metrics {
			if m.Pods != nil && !exported(t, m.Pods.Metric.Name) {
				t.Errorf("HorizontalPodAutoscaler scales on %s, which docs/metrics.md does not list", m.Pods.Metric.Name)
			}
		}
	}
}

// checkConfig decodes the ConfigMap's llmgw.yaml as the gateway does, in
// the environment the pods get from the Secret (or the operator's), with
// secret references stood in for: a configuration it would refuse fails.
func checkConfig(t *testing.T, v chartValues, objs []object) *config.Config {
	t.Helper()
	cm := one[corev1.ConfigMap](t, objs)
	data, ok := cm.Data["llmgw.yaml"]
	if !ok {
		t.Fatalf("ConfigMap has no llmgw.yaml: %v", cm.Data)
	}
	env := map[string]string{}
	if v.Secrets.ExistingSecret != "" {
		if len(only[corev1.Secret](objs)) != 0 {
			t.Error("a Secret is rendered beside secrets.existingSecret")
		}
		env = existingSecretEnv
	} else {
		for k, b := range one[corev1.Secret](t, objs).Data {
			env[k] = string(b)
		}
	}
	lookup := func(k string) (string, bool) { s, ok := env[k]; return s, ok }
	cfg, err := config.ParseWith([]byte(data), lookup, standIn{})
	if err != nil {
		t.Fatalf("the gateway refuses the chart's configuration: %v\n%s", err, data)
	}
	if cfg.Server.DataDir != "/var/lib/llmgw" || cfg.Storage.Driver != v.Storage.Driver {
		t.Errorf("data_dir %q, storage.driver %q (values %q)", cfg.Server.DataDir, cfg.Storage.Driver, v.Storage.Driver)
	}
	if v.Storage.Driver == "postgres" && (cfg.Storage.DSN == "" || cfg.Server.Secret == "" && env["LLMGW_SECRET"] == "") {
		t.Error("postgres without a DSN or a shared server secret")
	}
	if v.Redis.Enabled != (cfg.Redis.URL != "") {
		t.Errorf("redis.enabled %t, redis.url %q", v.Redis.Enabled, cfg.Redis.URL)
	}
	return cfg
}

// standIn resolves every secret reference to a placeholder.
type standIn struct{}

func (standIn) ResolveSecret(_ *config.Secrets, ref string) (string, error) {
	return "resolved-" + strings.SplitN(ref, ":", 2)[0], nil
}

func checkGracePeriod(t *testing.T, cfg *config.Config, dep *appsv1.Deployment) {
	t.Helper()
	g := dep.Spec.Template.Spec.TerminationGracePeriodSeconds
	if g == nil {
		t.Fatal("no terminationGracePeriodSeconds")
	}
	if time.Duration(*g)*time.Second <= time.Duration(cfg.Server.ShutdownTimeout) {
		t.Errorf("terminationGracePeriodSeconds %d is not more than server.shutdown_timeout %v", *g, time.Duration(cfg.Server.ShutdownTimeout))
	}
}

// checkChecksums: pods roll on a new configuration exactly when the
// gateway does not reload it itself, and on a new chart Secret always.
func checkChecksums(t *testing.T, v chartValues, dep *appsv1.Deployment) {
	t.Helper()
	ann := dep.Spec.Template.Annotations
	hot := v.Config.HotReload == nil || *v.Config.HotReload
	if _, ok := ann["checksum/config"]; ok == hot {
		t.Errorf("hotReload %t: checksum/config present %t", hot, ok)
	}
	watch := !slices.Contains(dep.Spec.Template.Spec.Containers[0].Args, "--watch-config=false")
	if watch != hot {
		t.Errorf("hotReload %t: args %q", hot, dep.Spec.Template.Spec.Containers[0].Args)
	}
	if _, ok := ann["checksum/secret"]; ok != (v.Secrets.ExistingSecret == "") {
		t.Errorf("existingSecret %q: checksum/secret present %t", v.Secrets.ExistingSecret, ok)
	}
}

// checkNetworkPolicy: egress allows DNS, and the store's and Redis's ports
// when they are configured.
func checkNetworkPolicy(t *testing.T, v chartValues, objs []object) {
	t.Helper()
	for _, np := range only[networkingv1.NetworkPolicy](objs) {
		want := map[string]int32{"DNS": 53, "HTTPS": 443}
		if v.Storage.Driver == "postgres" {
			want["PostgreSQL"] = 5432
		}
		if v.Redis.Enabled {
			want["Redis"] = 6379
		}
		for what, port := range want {
			if !egressAllows(np, port) {
				t.Errorf("NetworkPolicy allows no egress to %s (port %d)", what, port)
			}
		}
		if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			t.Errorf("NetworkPolicy policyTypes %v", np.Spec.PolicyTypes)
		}
	}
}

func egressAllows(np *networkingv1.NetworkPolicy, port int32) bool {
	for _, r := range np.Spec.Egress {
		for _, p := range r.Ports {
			if p.Port != nil && p.Port.IntValue() == int(port) {
				return true
			}
		}
	}
	return false
}

// checkMonitoring: the ServiceMonitor scrapes a port the Service has, and
// the PrometheusRule holds deploy/prometheus's groups, as they are.
func checkMonitoring(t *testing.T, objs []object, dep *appsv1.Deployment) {
	t.Helper()
	svc := one[corev1.Service](t, objs)
	for _, sm := range only[monitoringv1.ServiceMonitor](objs) {
		if !selects(t, sm.Spec.Selector.MatchLabels, dep) || !reflect.DeepEqual(sm.Spec.Selector.MatchLabels, svc.Spec.Selector) {
			t.Errorf("ServiceMonitor selector %v, Service labels %v", sm.Spec.Selector.MatchLabels, svc.Spec.Selector)
		}
		for _, e := range sm.Spec.Endpoints {
			if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == e.Port }) {
				t.Errorf("ServiceMonitor scrapes port %q, which the Service does not have", e.Port)
			}
		}
	}
	for _, pr := range only[monitoringv1.PrometheusRule](objs) {
		want := repositoryGroups(t)
		if !reflect.DeepEqual(pr.Spec.Groups, want) {
			t.Errorf("PrometheusRule groups differ from deploy/prometheus's:\n got %d groups\nwant %d", len(pr.Spec.Groups), len(want))
		}
	}
}

// repositoryGroups are the rule groups of deploy/prometheus/*.yaml, in
// file order (the order of helm's Files.Glob).
func repositoryGroups(t *testing.T) []monitoringv1.RuleGroup {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "prometheus", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files in deploy/prometheus (%v)", err)
	}
	var groups []monitoringv1.RuleGroup
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf struct {
			Groups []monitoringv1.RuleGroup `json:"groups"`
		}
		if err := yaml.UnmarshalStrict(data, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		groups = append(groups, rf.Groups...)
	}
	return groups
}

// exported reports whether docs/metrics.md, the list of what the gateway
// exports, has the metric.
func exported(t *testing.T, name string) bool {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(doc), "### `"+name+"`\n")
}

// checkIngress: every backend is the Service's http port.
func checkIngress(t *testing.T, objs []object) {
	t.Helper()
	svc := one[corev1.Service](t, objs)
	for _, ing := range only[networkingv1.Ingress](objs) {
		for _, r := range ing.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				b := p.Backend.Service
				if b == nil || b.Name != svc.Name || b.Port.Number != svc.Spec.Ports[0].Port {
					t.Errorf("Ingress %s%s goes to %+v, not the Service's port %d", r.Host, p.Path, b, svc.Spec.Ports[0].Port)
				}
			}
		}
	}
}

// checkMemLimit: GOMEMLIMIT, when set, is below the container's memory
// limit and not far below: 75 to 90 % of it (docs/capacity.md).
func checkMemLimit(t *testing.T, dep *appsv1.Deployment) {
	t.Helper()
	c := dep.Spec.Template.Spec.Containers[0]
	limit, ok := c.Resources.Limits[corev1.ResourceMemory]
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "GOMEMLIMIT" })
	if !ok || i < 0 {
		t.Errorf("memory limit %v, GOMEMLIMIT set %t", limit.String(), i >= 0)
		return
	}
	var mib int64
	if _, err := fmt.Sscanf(c.Env[i].Value, "%dMiB", &mib); err != nil {
		t.Fatalf("GOMEMLIMIT %q: %v", c.Env[i].Value, err)
	}
	if r := float64(mib<<20) / float64(limit.Value()); r > 0.9 || r < 0.75 {
		t.Errorf("GOMEMLIMIT %s is %.0f %% of the memory limit %s", c.Env[i].Value, r*100, limit.String())
	}
}
