package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// runbookBase is where an alert's runbook_url points: the runbook is
// docs/runbooks/<alert>.md in the repository.
const runbookBase = "https://github.com/llmgw/llmgw/blob/main/docs/runbooks/"

// severities are the values of an alert's severity label, each routed by
// the Alertmanager example.
var severities = []string{"page", "ticket", "info"}

// prometheusSeries are series that Prometheus itself makes, not the gateway.
var prometheusSeries = map[string]bool{"up": true}

// runbookSections are the headings every runbook has.
var runbookSections = []string{"## Meaning", "## Impact", "## Diagnosis", "## Mitigation", "## Escalation"}

// ruleFile is the shape of a Prometheus rule file, decoded strictly.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record        string            `yaml:"record"`
	Alert         string            `yaml:"alert"`
	Expr          string            `yaml:"expr"`
	For           string            `yaml:"for"`
	KeepFiringFor string            `yaml:"keep_firing_for"`
	Labels        map[string]string `yaml:"labels"`
	Annotations   map[string]string `yaml:"annotations"`
}

// rules returns every rule of deploy/prometheus/*.yaml, by file.
func rules(t *testing.T) map[string][]rule {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("prometheus", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files in deploy/prometheus (%v)", err)
	}
	out := map[string][]rule{}
	for _, f := range files {
		var rf ruleFile
		decodeYAML(t, f, &rf)
		if len(rf.Groups) == 0 {
			t.Errorf("%s: no rule groups", f)
		}
		for _, g := range rf.Groups {
			for i, r := range g.Rules {
				if (r.Alert == "") == (r.Record == "") || strings.TrimSpace(r.Expr) == "" {
					t.Errorf("%s: group %s rule %d: want exactly one of alert and record, and an expr", f, g.Name, i)
				}
				out[f] = append(out[f], r)
			}
		}
	}
	return out
}

func decodeYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// exported returns the metric names of docs/metrics.md: one heading line
// "### `<name>`" per metric, histograms by their base name.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	heading := regexp.MustCompile("^### `([a-zA-Z_:][a-zA-Z0-9_:]*)`$")
	names := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := heading.FindStringSubmatch(sc.Text()); m != nil {
			names[m[1]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("docs/metrics.md lists no metric")
	}
	return names
}

// known tells whether a query may name metric: the gateway exports it
// (a histogram's series by its base name), the rules record it, or
// Prometheus makes it.
func known(name string, exported, recorded map[string]bool) bool {
	if exported[name] || recorded[name] || prometheusSeries[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && exported[base] {
			return true
		}
	}
	return false
}

// unknownMetrics returns the names expr selects that are not known.
func unknownMetrics(expr string, exported, recorded map[string]bool) []string {
	var bad []string
	for _, n := range metricNames(expr) {
		if !known(n, exported, recorded) && !slices.Contains(bad, n) {
			bad = append(bad, n)
		}
	}
	return bad
}

func recorded(all map[string][]rule) map[string]bool {
	out := map[string]bool{}
	for _, rs := range all {
		for _, r := range rs {
			if r.Record != "" {
				out[r.Record] = true
			}
		}
	}
	return out
}

func TestRuleQueriesNameExportedMetrics(t *testing.T) {
	all := rules(t)
	exp, rec := exported(t), recorded(all)
	for f, rs := range all {
		for _, r := range rs {
			if len(metricNames(r.Expr)) == 0 && !strings.HasPrefix(strings.TrimSpace(r.Expr), "vector(") {
				t.Errorf("%s: %s%s selects no metric", f, r.Alert, r.Record)
			}
			if bad := unknownMetrics(r.Expr, exp, rec); len(bad) > 0 {
				t.Errorf("%s: %s%s names metrics not in docs/metrics.md nor recorded: %v", f, r.Alert, r.Record, bad)
			}
		}
	}
}

func TestAlertsHaveSeverityAndRunbook(t *testing.T) {
	alerts := map[string]bool{}
	for f, rs := range rules(t) {
		for _, r := range rs {
			if r.Alert == "" {
				continue
			}
			alerts[r.Alert] = true
			if !slices.Contains(severities, r.Labels["severity"]) {
				t.Errorf("%s: %s: severity %q, want one of %v", f, r.Alert, r.Labels["severity"], severities)
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s: %s: no %s annotation", f, r.Alert, a)
				}
			}
			if want := runbookBase + r.Alert + ".md"; r.Annotations["runbook_url"] != want {
				t.Errorf("%s: %s: runbook_url %q, want %q", f, r.Alert, r.Annotations["runbook_url"], want)
			}
		}
	}
	if len(alerts) == 0 {
		t.Fatal("no alert rules")
	}
	for a := range alerts {
		b, err := os.ReadFile(filepath.Join("..", "docs", "runbooks", a+".md"))
		if err != nil {
			t.Errorf("alert %s has no runbook: %v", a, err)
			continue
		}
		if !bytes.HasPrefix(b, []byte("# "+a+"\n")) {
			t.Errorf("docs/runbooks/%s.md does not begin with the heading %q", a, "# "+a)
		}
		for _, s := range runbookSections {
			if !bytes.Contains(b, []byte("\n"+s+"\n")) {
				t.Errorf("docs/runbooks/%s.md has no section %q", a, s)
			}
		}
	}
	// And no runbook of an alert that is gone.
	files, _ := filepath.Glob(filepath.Join("..", "docs", "runbooks", "*.md"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".md")
		if name != "README" && !alerts[name] {
			t.Errorf("docs/runbooks/%s.md is the runbook of no alert", name)
		}
	}
}

// ruleTests is the part of a promtool rule test file read here.
type ruleTests struct {
	Tests []struct {
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func TestEveryAlertHasAUnitTest(t *testing.T) {
	fired := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join("prometheus", "tests", "*.yaml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rt ruleTests
		if err := yaml.Unmarshal(b, &rt); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range rt.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fired[a.Alertname] = true
				}
			}
		}
	}
	for f, rs := range rules(t) {
		for _, r := range rs {
			if r.Alert != "" && !fired[r.Alert] {
				t.Errorf("%s: alert %s is never seen firing in deploy/prometheus/tests", f, r.Alert)
			}
		}
	}
}

func TestAlertmanagerRoutesEverySeverity(t *testing.T) {
	var am struct {
		Route struct {
			Receiver string `yaml:"receiver"`
			Routes   []struct {
				Matchers []string `yaml:"matchers"`
				Receiver string   `yaml:"receiver"`
			} `yaml:"routes"`
		} `yaml:"route"`
		Receivers []struct {
			Name string `yaml:"name"`
		} `yaml:"receivers"`
	}
	b, err := os.ReadFile(filepath.Join("alertmanager", "alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &am); err != nil {
		t.Fatal(err)
	}
	receivers := map[string]bool{}
	for _, r := range am.Receivers {
		receivers[r.Name] = true
	}
	if !receivers[am.Route.Receiver] {
		t.Errorf("default receiver %q is not defined", am.Route.Receiver)
	}
	used := map[string]bool{}
	for _, rs := range rules(t) {
		for _, r := range rs {
			if r.Alert != "" {
				used[r.Labels["severity"]] = true
			}
		}
	}
	for sev := range used {
		var to string
		for _, r := range am.Route.Routes {
			if slices.Contains(r.Matchers, `severity="`+sev+`"`) {
				to = r.Receiver
				break
			}
		}
		if to == "" || !receivers[to] {
			t.Errorf("severity %q is routed to no defined receiver (got %q)", sev, to)
		}
	}
}

// panel is the part of a Grafana panel read here; rows of the classic
// model nest their collapsed panels.
type panel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource json.RawMessage `json:"datasource"`
	GridPos    *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		Expr       string          `json:"expr"`
		RefID      string          `json:"refId"`
		Datasource json.RawMessage `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// grafanaBuiltins are the variables Grafana defines itself.
var grafanaBuiltins = map[string]bool{
	"__rate_interval": true, "__interval": true, "__range": true, "__range_s": true,
	"__interval_ms": true, "__range_ms": true,
}

// varRef finds the variables a query uses: $name, ${name} and ${name:format}.
var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// dashboards returns every dashboard of deploy/grafana, by file.
func dashboards(t *testing.T) map[string]dashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("grafana", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in deploy/grafana (%v)", err)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = d
	}
	return out
}

// eachPanel calls fn for every panel of ps, rows and their panels included.
func eachPanel(ps []panel, fn func(p panel)) {
	for _, p := range ps {
		fn(p)
		eachPanel(p.Panels, fn)
	}
}

func TestDashboards(t *testing.T) {
	all := rules(t)
	exp, rec := exported(t), recorded(all)
	uids := map[string]string{}
	varsSeen := map[string]bool{}
	for f, d := range dashboards(t) {
		if d.UID == "" || d.Title == "" || d.SchemaVersion < 39 {
			t.Errorf("%s: uid %q, title %q, schemaVersion %d: want a uid, a title and schemaVersion >= 39", f, d.UID, d.Title, d.SchemaVersion)
		}
		if other, ok := uids[d.UID]; ok {
			t.Errorf("%s: uid %q already used by %s", f, d.UID, other)
		}
		uids[d.UID] = f
		vars := map[string]bool{}
		for _, v := range d.Templating.List {
			vars[v.Name] = true
			varsSeen[v.Name] = true
		}
		if !vars["DS_PROMETHEUS"] {
			t.Errorf("%s: no DS_PROMETHEUS data source variable", f)
		}
		for _, v := range d.Templating.List {
			if v.Name == "DS_PROMETHEUS" && v.Type != "datasource" {
				t.Errorf("%s: variable DS_PROMETHEUS is a %s, want a datasource", f, v.Type)
			}
			if v.Type != "query" {
				continue
			}
			q := templateQuery(queryString(v.Query))
			if bad := unknownMetrics(q, exp, rec); len(bad) > 0 {
				t.Errorf("%s: variable %s names metrics not in docs/metrics.md: %v", f, v.Name, bad)
			}
			checkVars(t, f, "variable "+v.Name, q, vars)
		}
		ids := map[int]bool{}
		n := 0
		eachPanel(d.Panels, func(p panel) {
			if ids[p.ID] || p.ID == 0 {
				t.Errorf("%s: panel %q: id %d missing or repeated", f, p.Title, p.ID)
			}
			ids[p.ID] = true
			if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
				t.Errorf("%s: panel %q has no gridPos", f, p.Title)
			}
			if p.Type == "row" {
				return
			}
			n++
			if p.Title == "" || len(p.Targets) == 0 {
				t.Errorf("%s: panel %d %q: want a title and targets", f, p.ID, p.Title)
			}
			if !bytes.Contains(p.Datasource, []byte(`"${DS_PROMETHEUS}"`)) {
				t.Errorf("%s: panel %q: datasource %s, want uid ${DS_PROMETHEUS}", f, p.Title, p.Datasource)
			}
			for _, tg := range p.Targets {
				where := "panel " + p.Title + " target " + tg.RefID
				if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" {
					t.Errorf("%s: %s: empty expr or refId", f, where)
				}
				if !bytes.Contains(tg.Datasource, []byte(`"${DS_PROMETHEUS}"`)) {
					t.Errorf("%s: %s: datasource %s, want uid ${DS_PROMETHEUS}", f, where, tg.Datasource)
				}
				if len(metricNames(tg.Expr)) == 0 {
					t.Errorf("%s: %s selects no metric: %s", f, where, tg.Expr)
				}
				if bad := unknownMetrics(tg.Expr, exp, rec); len(bad) > 0 {
					t.Errorf("%s: %s names metrics not in docs/metrics.md nor recorded: %v", f, where, bad)
				}
				if msg := histogramProblem(tg.Expr); msg != "" {
					t.Errorf("%s: %s: %s", f, where, msg)
				}
				checkVars(t, f, where, tg.Expr, vars)
			}
		})
		if n == 0 {
			t.Errorf("%s: no panels", f)
		}
	}
	for _, v := range []string{"tenant", "model", "provider"} {
		if !varsSeen[v] {
			t.Errorf("no dashboard has a %s variable", v)
		}
	}
}

// TestDashboardQueriesParse hands every dashboard query, its variables
// replaced by values, to promtool as a recording rule, so that a query
// Prometheus would refuse fails here. It needs promtool, which .ci/run
// installs; elsewhere it is skipped.
func TestDashboardQueriesParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (.ci/run installs it)")
	}
	values := strings.NewReplacer("$__rate_interval", "5m", "$__range", "1h", "$__interval", "1m")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboards\n    rules:\n")
	n := 0
	add := func(expr string) {
		n++
		expr = varRef.ReplaceAllString(values.Replace(expr), ".*")
		q, _ := json.Marshal(expr) // a JSON string is a YAML string
		fmt.Fprintf(&b, "      - record: dashboard:query%d\n        expr: %s\n", n, q)
	}
	for _, d := range dashboards(t) {
		for _, v := range d.Templating.List {
			if q := templateQuery(queryString(v.Query)); v.Type == "query" && q != "" {
				add(q)
			}
		}
		eachPanel(d.Panels, func(p panel) {
			for _, tg := range p.Targets {
				add(tg.Expr)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "dashboards.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules on the %d dashboard queries: %v\n%s", n, err, out)
	}
}

// queryString returns a variable's query, a string or (newer Grafana) an
// object with a "query" field.
func queryString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(raw, &o)
	return o.Query
}

func checkVars(t *testing.T, file, where, expr string, vars map[string]bool) {
	t.Helper()
	for _, m := range varRef.FindAllStringSubmatch(expr, -1) {
		name := m[1] + m[2]
		if !vars[name] && !grafanaBuiltins[name] {
			t.Errorf("%s: %s uses $%s, which the dashboard does not define", file, where, name)
		}
	}
}

// histogramProblem says what is wrong with a histogram_quantile in expr:
// it must read _bucket series and keep le in its aggregation.
var byLe = regexp.MustCompile(`by\s*\(([^)]*\b)?le\b`)

func histogramProblem(expr string) string {
	if !strings.Contains(expr, "histogram_quantile(") {
		return ""
	}
	if !strings.Contains(expr, "_bucket") {
		return "histogram_quantile over no _bucket series"
	}
	if !byLe.MatchString(expr) {
		return "histogram_quantile whose aggregation drops le"
	}
	return ""
}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		name, expr string
		want       []string
	}{
		{"selector with matchers and range", `rate(llmgw_requests_total{route=~"/v1/(chat|x)", code!=""}[5m])`, []string{"llmgw_requests_total"}},
		{"histogram quantile", `histogram_quantile(0.95, sum by (le, model) (rate(llmgw_x_seconds_bucket{model=~"$model"}[$__rate_interval])))`, []string{"llmgw_x_seconds_bucket"}},
		{"bare names and absent", `up{job="llmgw"} == 0 or absent(up{job="llmgw"})`, []string{"up", "up"}},
		{"vector matching", `sum by (job, instance) (a) > on () group_left () 0.8 * llmgw:b:ceiling`, []string{"a", "llmgw:b:ceiling"}},
		{"trailing by and without", `sum(rate(a[5m])) by (instance) / sum(rate(b[5m])) without (foo, bar)`, []string{"a", "b"}},
		{"numbers, offset, keywords", `increase(a[1d] offset 1d) > 1e-3 and b > 0x1F unless c > bool Inf`, []string{"a", "b", "c"}},
		{"strings with braces and parens", `label_replace(a, "dst", "}$1(", 'src', "(.*)")`, []string{"a"}},
		{"grafana variables", `topk($n, sum by (tenant) (c{tenant=~"${tenant:regex}"}))`, []string{"c"}},
		{"subquery", `max_over_time(llmgw_breaker_state[5m:1m])`, []string{"llmgw_breaker_state"}},
		{"function only", `vector(1) * time()`, nil},
		{"ignoring and group_right", `a / ignoring (x) group_right (y) b`, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := metricNames(tt.expr); !slices.Equal(got, tt.want) {
				t.Errorf("metricNames(%s) = %q, want %q", tt.expr, got, tt.want)
			}
		})
	}
}

func TestUnknownMetricsIsCaught(t *testing.T) {
	exp := map[string]bool{"llmgw_requests_total": true, "llmgw_d_seconds": true}
	rec := map[string]bool{"llmgw:slo_errors:ratio_rate5m": true}
	expr := `sum(rate(llmgw_requests_total[5m])) + sum(rate(llmgw_d_seconds_bucket[5m])) + llmgw:slo_errors:ratio_rate5m` +
		` + up + llmgw_nope_total + llmgw_nope_seconds_bucket + llmgw:other`
	got := unknownMetrics(expr, exp, rec)
	sort.Strings(got)
	want := []string{"llmgw:other", "llmgw_nope_seconds_bucket", "llmgw_nope_total"}
	if !slices.Equal(got, want) {
		t.Errorf("unknownMetrics = %q, want %q", got, want)
	}
}

func TestTemplateQuery(t *testing.T) {
	for q, want := range map[string]string{
		`label_values(llmgw_tokens_total{job=~"$job"}, tenant)`: `llmgw_tokens_total{job=~"$job"}`,
		`label_values(job)`:                     "",
		`query_result(topk(5, sum by (m) (a)))`: `topk(5, sum by (m) (a))`,
		`metrics(llmgw_.*)`:                     "",
	} {
		if got := templateQuery(q); got != want {
			t.Errorf("templateQuery(%s) = %q, want %q", q, got, want)
		}
	}
}
