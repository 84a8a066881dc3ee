package helm

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// chartDir is the chart, relative to this package.
const chartDir = "llmgw"

// helmVersion is the helm the chart is checked with (.ci/run installs it).
const helmVersion = "v4.3.2"

// kinds are the objects the chart may render, by apiVersion and kind, each
// decoded into its API type. Anything else fails the test.
var kinds = map[string]func() any{
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                               func() any { return &corev1.Secret{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"v1/PersistentVolumeClaim":                func() any { return &corev1.PersistentVolumeClaim{} },
	"autoscaling/v2/HorizontalPodAutoscaler":  func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":           func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/Ingress":            func() any { return &networkingv1.Ingress{} },
	"networking.k8s.io/v1/NetworkPolicy":      func() any { return &networkingv1.NetworkPolicy{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
}

// helm returns the helm binary, or skips the test outside CI when there
// is none. Under CI=true a missing or other helm fails.
func helm(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("helm")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("helm is not in PATH: .ci/run installs %s (go install helm.sh/helm/v4/cmd/helm@%s)", helmVersion, helmVersion)
		}
		t.Skipf("helm is not in PATH: go install helm.sh/helm/v4/cmd/helm@%s to check the chart", helmVersion)
	}
	// helm built by go install says only "v4.3" (its version is set by
	// its release builds' linker flags): the module version is exact.
	info, err := buildinfo.ReadFile(bin)
	if err != nil || info.Main.Version != helmVersion {
		var v string
		if info != nil {
			v = info.Main.Path + "@" + info.Main.Version
		}
		msg := fmt.Sprintf("%s is %q (%v), want helm.sh/helm/v4@%s", bin, v, err, helmVersion)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Log(msg)
	}
	return bin
}

// valuesFiles are the chart's test values, ci/*.yaml.
func valuesFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no values files in %s/ci (%v)", chartDir, err)
	}
	return files
}

// object is one rendered manifest: its source, kind and decoded value.
type object struct {
	Source string // templates/<file>.yaml
	Kind   string // apiVersion/kind
	Name   string
	Value  any
}

// render runs helm template with the values file and decodes every
// manifest strictly into its API type; chart is chartDir unless given (a
// packaged chart).
func render(t *testing.T, bin, values string, chart ...string) []object {
	t.Helper()
	args := []string{"template", "gw", chartDir, "--namespace", "llm", "--values", values}
	if len(chart) > 0 {
		args[2] = chart[0]
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return decodeAll(t, out)
}

// sourceLine is the comment helm puts before each manifest.
var sourceLine = regexp.MustCompile(`(?m)^# Source: (.+)$`)

func decodeAll(t *testing.T, out []byte) []object {
	t.Helper()
	var objs []object
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(out), -1) {
		if strings.TrimSpace(sourceLine.ReplaceAllString(doc, "")) == "" {
			continue
		}
		src := "?"
		if m := sourceLine.FindStringSubmatch(doc); m != nil {
			src = m[1]
		}
		o, err := decode([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		o.Source = src
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		t.Fatalf("helm rendered nothing:\n%s", out)
	}
	return objs
}

// decode reads one manifest into the API type of its apiVersion and kind,
// refusing a field the type does not have.
func decode(doc []byte) (object, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return object{}, err
	}
	var meta struct {
		metav1.TypeMeta
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(j, &meta); err != nil {
		return object{}, err
	}
	kind := meta.APIVersion + "/" + meta.Kind
	mk := kinds[kind]
	if mk == nil {
		return object{}, fmt.Errorf("unexpected kind %q", kind)
	}
	v := mk()
	d := json.NewDecoder(bytes.NewReader(j))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return object{}, fmt.Errorf("%s %s: %w", kind, meta.Metadata.Name, err)
	}
	return object{Kind: kind, Name: meta.Metadata.Name, Value: v}, nil
}

// only returns the objects of type T.
func only[T any](objs []object) []*T {
	var out []*T
	for _, o := range objs {
		if v, ok := o.Value.(*T); ok {
			out = append(out, v)
		}
	}
	return out
}

// one returns the single object of type T, failing when there is not
// exactly one.
func one[T any](t *testing.T, objs []object) *T {
	t.Helper()
	all := only[T](objs)
	if len(all) != 1 {
		var zero T
		t.Fatalf("want one %T, got %d", zero, len(all))
	}
	return all[0]
}

// Every values file renders, and every manifest decodes strictly into its
// Kubernetes (or Prometheus Operator) type.
func TestTemplatesDecodeStrictly(t *testing.T) {
	bin := helm(t)
	for _, f := range valuesFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			objs := render(t, bin, f)
			var got []string
			for _, o := range objs {
				got = append(got, o.Kind)
			}
			sort.Strings(got)
			t.Logf("%d objects: %s", len(objs), strings.Join(got, ", "))
		})
	}
}

// A manifest with a field its type lacks, or of a kind the chart does not
// render, is refused: the decoding above can fail.
func TestDecodeRefusesUnknownFieldsAndKinds(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field": "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selectr: {a: b}}\n",
		"probe typo":    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers: [{name: c, readinesProbe: {}}]\n",
		"unknown kind":  "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
		"old api":       "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: x}\n",
		"crd field":     "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec: {endpoints: [{port: http, bearerTokenFiles: x}]}\n",
	} {
		if _, err := decode([]byte(doc)); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// helm lint --strict passes with each values file.
func TestLintStrict(t *testing.T) {
	bin := helm(t)
	for _, f := range valuesFiles(t) {
		out, err := exec.Command(bin, "lint", "--strict", chartDir, "--values", f).CombinedOutput()
		if err != nil {
			t.Errorf("helm lint --strict --values %s: %v\n%s", f, err, out)
		}
	}
}

// The values schema refuses a misspelt top-level key, and values that
// make no working gateway are refused with a message.
func TestValuesRefused(t *testing.T) {
	bin := helm(t)
	def := filepath.Join(chartDir, "ci", "default-values.yaml")
	for _, c := range []struct{ set, want string }{
		{"replicaCounts=2", "replicaCounts"},
		{"storage.driver=mysql", "driver"},
		{"replicaCount=2", "sqlite is one replica's store"},
		{"storage.driver=postgres", "needs storage.dsn"},
		{"redis.enabled=true", "needs redis.url"},
		{"config.server.shutdown_timeout=1.5m", "cannot read the duration"},
	} {
		cmd := exec.Command(bin, "template", "gw", chartDir, "--values", def, "--set", c.set)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("--set %s: err %v, want an error saying %q:\n%.600s", c.set, err, c.want, out)
		}
	}
}
