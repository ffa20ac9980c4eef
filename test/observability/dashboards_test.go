package observability

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// panelQuery is one PromQL expression of a dashboard and the title of the
// panel (or tile) it belongs to.
type panelQuery struct {
	Panel, Expr string
}

// dashboardQueries reads a dashboard JSON file and returns every string
// stored under key (Grafana: "expr"; Cloud Monitoring: "prometheusQuery"),
// with the title of the nearest enclosing object that has one.
func dashboardQueries(t *testing.T, path, key string) []panelQuery {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	var out []panelQuery
	var walk func(v any, title string)
	walk = func(v any, title string) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["title"].(string); ok && s != "" {
				title = s
			}
			for k, child := range v {
				if s, ok := child.(string); ok && k == key {
					out = append(out, panelQuery{Panel: title, Expr: s})
					continue
				}
				walk(child, title)
			}
		case []any:
			for _, child := range v {
				walk(child, title)
			}
		}
	}
	walk(doc, "")
	slices.SortFunc(out, func(a, b panelQuery) int { return strings.Compare(a.Panel+a.Expr, b.Panel+b.Expr) })
	return out
}

var templateVarRE = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// substitute replaces dashboard template variables ($name and ${name}) with
// vars; it reports the names it does not know.
func substitute(expr string, vars map[string]string) (string, []string) {
	var unknown []string
	out := templateVarRE.ReplaceAllStringFunc(expr, func(m string) string {
		name := strings.Trim(m, "${}")
		if v, ok := vars[name]; ok {
			return v
		}
		unknown = append(unknown, name)
		return m
	})
	return out, unknown
}

// checkDashboard runs every PromQL expression of a dashboard against the
// test Prometheus and requires each to return at least one series. Series
// can take a scrape or two to appear after the traffic, so every query is
// retried until one shared deadline.
func (f *fixture) checkDashboard(t *testing.T, path, key string, vars map[string]string) {
	queries := dashboardQueries(t, path, key)
	if len(queries) < 10 {
		t.Fatalf("%s: found %d queries under %q; the extraction is broken", path, len(queries), key)
	}
	pending := map[panelQuery]string{} // query → its substituted form
	for _, q := range queries {
		expr, unknown := substitute(q.Expr, vars)
		if len(unknown) > 0 {
			t.Errorf("panel %q uses unknown template variables %v: %s", q.Panel, unknown, q.Expr)
			continue
		}
		pending[q] = expr
	}
	last := map[panelQuery]string{}
	deadline := time.Now().Add(30 * time.Second)
	for len(pending) > 0 && time.Now().Before(deadline) {
		for q, expr := range pending {
			res, err := f.prom.query(expr)
			switch {
			case err != nil:
				last[q] = err.Error()
			case len(res) == 0:
				last[q] = "no series"
			default:
				delete(pending, q)
			}
		}
		if len(pending) > 0 {
			time.Sleep(250 * time.Millisecond)
		}
	}
	for q, expr := range pending {
		t.Errorf("panel %q: %s: %s", q.Panel, last[q], expr)
	}
	t.Logf("%s: %d queries, %d without series", path, len(queries), len(pending))
}

// checkNoDuplicates runs every query that reads several metric name sets
// ("(A) or (B) ...") and its first branch alone, and requires the same
// number of series: with every set scraped, the sets count the same
// requests and must not show up twice in a panel.
func (f *fixture) checkNoDuplicates(t *testing.T, path, key string, vars map[string]string) {
	checked := 0
	for _, q := range dashboardQueries(t, path, key) {
		expr, unknown := substitute(q.Expr, vars)
		first := firstBranch(expr)
		if len(unknown) > 0 || first == "" {
			continue
		}
		whole, err := f.prom.query(expr)
		if err != nil {
			t.Errorf("panel %q: %v", q.Panel, err)
			continue
		}
		one, err := f.prom.query(first)
		if err != nil {
			t.Errorf("panel %q: %v", q.Panel, err)
			continue
		}
		if len(whole) != len(one) {
			t.Errorf("panel %q: %d series, its first name set alone %d: %s", q.Panel, len(whole), len(one), expr)
		}
		checked++
	}
	if checked < 10 {
		t.Errorf("%s: only %d queries read several name sets", path, checked)
	}
}

// firstBranch returns A of "(A) or ...", "" when expr has no such form.
func firstBranch(expr string) string {
	if !strings.HasPrefix(expr, "(") {
		return ""
	}
	depth := 0
	for i, c := range expr {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				if strings.HasPrefix(expr[i+1:], " or ") {
					return expr[1:i]
				}
				return ""
			}
		}
	}
	return ""
}

// checkGrafanaVariables checks that the Grafana dashboard's cluster and
// namespace variables, which are label_values() queries, list the test's
// values.
func (f *fixture) checkGrafanaVariables(t *testing.T) {
	dash := readGrafana(t)
	labelValuesRE := regexp.MustCompile(`^label_values\((.+), (\w+)\)$`)
	want := map[string]string{"cluster": testCluster, "namespace": testNamespace}
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValuesRE.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: definition %q is not label_values(selector, label)", v.Name, v.Definition)
			continue
		}
		var values []string
		path := fmt.Sprintf("/api/v1/label/%s/values?match[]=%s", m[2], url.QueryEscape(m[1]))
		if err := f.prom.api(path, &values); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(values, want[v.Name]) {
			t.Errorf("variable %s (%s) lists %v, want %q among them", v.Name, v.Definition, values, want[v.Name])
		}
	}
}

// grafanaDashboard is the part of a Grafana dashboard the tests look at.
type grafanaDashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Query      any    `json:"query"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
	Panels []grafanaPanel `json:"panels"`
}

// grafanaPanel is one panel (rows included).
type grafanaPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		Expr       string `json:"expr"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
}

// readGrafana parses the Grafana dashboard.
func readGrafana(t *testing.T) grafanaDashboard {
	t.Helper()
	data, err := os.ReadFile("../../deploy/dashboards/grafana-inference-gateway.json")
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestGrafanaDashboardImportable checks what Grafana's import needs: a
// datasource variable of type prometheus that every panel and query uses,
// unique panel ids, panels inside the 24-column grid.
func TestGrafanaDashboardImportable(t *testing.T) {
	d := readGrafana(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q, uid %q: both are required", d.Title, d.UID)
	}
	hasDatasource := false
	for _, v := range d.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
			hasDatasource = true
		}
	}
	if !hasDatasource {
		t.Fatal(`no templating variable {name: datasource, type: datasource, query: prometheus}`)
	}
	ids := map[int]string{}
	for _, p := range d.Panels {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panel id %d used by %q and %q", p.ID, prev, p.Title)
		}
		ids[p.ID] = p.Title
		if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" || p.Type == "text" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the ${datasource} variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" || tg.Expr == "" {
				t.Errorf("panel %q: query %q must use ${datasource} and have an expression", p.Title, tg.Expr)
			}
		}
	}
}

// cloudDashboard is the part of a Cloud Monitoring dashboard the tests look
// at.
type cloudDashboard struct {
	DisplayName  string `json:"displayName"`
	MosaicLayout struct {
		Columns int `json:"columns"`
		Tiles   []struct {
			XPos, YPos, Width, Height int
			Widget                    map[string]json.RawMessage `json:"widget"`
		} `json:"tiles"`
	} `json:"mosaicLayout"`
	DashboardFilters []struct {
		LabelKey   string `json:"labelKey"`
		FilterType string `json:"filterType"`
	} `json:"dashboardFilters"`
}

// TestCloudMonitoringDashboardShape checks the Cloud Monitoring dashboard
// against Google's "GKE Inference Gateway Prometheus Overview": its display
// name, the 48-column mosaic, the cluster/location/namespace filters, and
// that every chart of the gateway and vLLM sections is present.
func TestCloudMonitoringDashboardShape(t *testing.T) {
	data, err := os.ReadFile("../../deploy/dashboards/cloud-monitoring-inference-gateway.json")
	if err != nil {
		t.Fatal(err)
	}
	var d cloudDashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if d.DisplayName != "GKE Inference Gateway Prometheus Overview" {
		t.Errorf("displayName = %q", d.DisplayName)
	}
	if d.MosaicLayout.Columns != 48 {
		t.Errorf("mosaicLayout.columns = %d, want 48", d.MosaicLayout.Columns)
	}
	var filters []string
	for _, f := range d.DashboardFilters {
		if f.FilterType == "RESOURCE_LABEL" {
			filters = append(filters, f.LabelKey)
		}
	}
	if want := []string{"cluster", "location", "namespace"}; !slices.Equal(filters, want) {
		t.Errorf("dashboard filters = %v, want %v", filters, want)
	}
	titles := map[string]bool{}
	for _, tile := range d.MosaicLayout.Tiles {
		if tile.XPos < 0 || tile.Width <= 0 || tile.XPos+tile.Width > 48 || tile.Height <= 0 {
			t.Errorf("tile at (%d,%d) %dx%d is outside the 48-column grid", tile.XPos, tile.YPos, tile.Width, tile.Height)
		}
		var title string
		_ = json.Unmarshal(tile.Widget["title"], &title)
		titles[title] = true
	}
	for _, want := range []string{
		"Inference Pool Average KV Cache Utilization", "Inference Pool Average Queue Size", "Build Info",
		"Running Request", "Request Latency", "Request Error / s", "Request / s", "Request Size", "Response Size",
		"Input Token Count", "Output Token Count", "Output Tokens / s", "Input Tokens / s",
		"Average KV Cache Utilization", "Average Queue Size", "Available pods", "Queue size for each pod",
		"Prefix Indexer Hit Ratio", "Prefix Indexer Hit Bytes", "Scheduler E2E Latency",
		"Token Throughput", "TPOT (Time Per Output Token Latency)", "TTFT (Time To First Token Latency)",
		"Prefix Cache Hit Total", "Prefix Cache Queries Total",
	} {
		if !titles[want] {
			t.Errorf("no tile titled %q", want)
		}
	}
	for _, q := range dashboardQueries(t, "../../deploy/dashboards/cloud-monitoring-inference-gateway.json", "prometheusQuery") {
		if strings.Contains(q.Expr, "[1m]") || strings.Contains(q.Expr, "[5m]") {
			t.Errorf("panel %q uses a fixed range instead of ${__interval}: %s", q.Panel, q.Expr)
		}
	}
}
