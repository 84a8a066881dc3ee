package helm

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

// valueNames lists the dotted names of the leaves of values.yaml: a
// scalar, a list, an empty map, or a map documented whole (config and the
// Kubernetes objects passed through).
func valueNames(prefix string, m map[string]any, out *[]string) {
	for k, v := range m {
		name := prefix + k
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 && name != "config" && !passThrough[name] {
			valueNames(name+".", sub, out)
			continue
		}
		*out = append(*out, name)
	}
}

// passThrough are values that are Kubernetes objects passed as they are,
// documented as a whole.
var passThrough = map[string]bool{
	"resources": true, "podSecurityContext": true, "securityContext": true,
	"probes.startup": true, "probes.liveness": true, "probes.readiness": true,
}

// Every value of values.yaml is in the chart's README, and the schema
// knows exactly the top-level values.
func TestValuesDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := yaml.Unmarshal(data, &vals); err != nil {
		t.Fatal(err)
	}
	var names []string
	valueNames("", vals, &names)
	readme, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(string(readme), "| `"+n+"` |") {
			t.Errorf("value %s is not in README.md's table", n)
		}
	}
	schemaData, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		AdditionalProperties *bool                      `json:"additionalProperties"`
		Properties           map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(schemaData, &schema); err != nil {
		t.Fatal(err)
	}
	if schema.AdditionalProperties == nil || *schema.AdditionalProperties {
		t.Error("values.schema.json allows unknown top-level values")
	}
	var top, known []string
	for k := range vals {
		top = append(top, k)
	}
	for k := range schema.Properties {
		if k != "global" {
			known = append(known, k)
		}
	}
	sort.Strings(top)
	sort.Strings(known)
	if !slices.Equal(top, known) {
		t.Errorf("values.yaml's top-level values %v, the schema's %v", top, known)
	}
}

// The packaged chart holds the rule files and the schema: helm package,
// then render the archive.
func TestPackagedChartRenders(t *testing.T) {
	bin := helm(t)
	dir := t.TempDir()
	if out, err := exec.Command(bin, "package", chartDir, "--destination", dir).CombinedOutput(); err != nil {
		t.Fatalf("helm package: %v\n%s", err, out)
	}
	tgz, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if len(tgz) != 1 {
		t.Fatalf("helm package made %v", tgz)
	}
	objs := render(t, bin, filepath.Join(chartDir, "ci", "ha-values.yaml"), tgz[0])
	pr := one[monitoringv1.PrometheusRule](t, objs)
	if len(pr.Spec.Groups) != len(repositoryGroups(t)) {
		t.Errorf("the packaged chart's PrometheusRule has %d groups", len(pr.Spec.Groups))
	}
}
