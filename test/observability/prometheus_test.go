package observability

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// promServer is a Prometheus started for one test, on a loopback port of its
// own (never 9090, the gateway's default).
type promServer struct {
	*proc
	URL    string
	client *http.Client
}

// startPrometheus writes config to a file and runs Debian's prometheus with
// it, retrying on another port if the chosen one was taken meanwhile. It
// returns once /-/ready answers 200.
func startPrometheus(t *testing.T, bin, config string) *promServer {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	client := newClient(t)
	for attempt := 1; ; attempt++ {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		p, _ := startProc(t, bin, nil,
			"--config.file="+cfgPath,
			"--storage.tsdb.path="+filepath.Join(dir, fmt.Sprintf("data-%d", attempt)),
			"--storage.tsdb.retention.time=1h",
			"--web.listen-address="+addr,
			"--log.level=warn",
		)
		s := &promServer{proc: p, URL: "http://" + addr, client: client}
		deadline := time.Now().Add(30 * time.Second)
		for !p.Exited() && time.Now().Before(deadline) {
			if resp, err := client.Get(s.URL + "/-/ready"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return s
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		out := p.Output()
		if p.Exited() && strings.Contains(out, "address already in use") && attempt < 3 {
			continue
		}
		t.Fatalf("prometheus not ready on %s (exited=%v):\n%s", addr, p.Exited(), out)
	}
}

// sample is one series of an instant-query result.
type sample struct {
	Metric map[string]string
	Value  float64
}

// query runs an instant PromQL query and returns its series; a scalar or
// string result becomes one sample without labels.
func (s *promServer) query(q string) ([]sample, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := s.api("/api/v1/query?query="+url.QueryEscape(q), &data); err != nil {
		return nil, err
	}
	switch data.ResultType {
	case "vector":
		var raw []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(data.Result, &raw); err != nil {
			return nil, fmt.Errorf("decode vector: %w", err)
		}
		out := make([]sample, len(raw))
		for i, r := range raw {
			out[i] = sample{Metric: r.Metric, Value: parseValue(r.Value[1])}
		}
		return out, nil
	case "matrix":
		var raw []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		}
		if err := json.Unmarshal(data.Result, &raw); err != nil {
			return nil, fmt.Errorf("decode matrix: %w", err)
		}
		out := make([]sample, len(raw))
		for i, r := range raw {
			out[i] = sample{Metric: r.Metric}
			if n := len(r.Values); n > 0 {
				out[i].Value = parseValue(r.Values[n-1][1])
			}
		}
		return out, nil
	default:
		var v [2]any
		if err := json.Unmarshal(data.Result, &v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", data.ResultType, err)
		}
		return []sample{{Value: parseValue(v[1])}}, nil
	}
}

// parseValue reads a sample value, which the API sends as a string.
func parseValue(v any) float64 {
	s, _ := v.(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return f
}

// sumOf queries q and adds the values of its series.
func (s *promServer) sumOf(q string) (float64, int, error) {
	res, err := s.query(q)
	if err != nil {
		return 0, 0, err
	}
	total := 0.0
	for _, r := range res {
		total += r.Value
	}
	return total, len(res), nil
}

// target is an active scrape target from /api/v1/targets.
type target struct {
	ScrapePool string            `json:"scrapePool"`
	Labels     map[string]string `json:"labels"`
	Health     string            `json:"health"`
	LastError  string            `json:"lastError"`
}

// targets returns the active targets of the given scrape pool (job_name).
func (s *promServer) targets(pool string) ([]target, error) {
	var data struct {
		ActiveTargets []target `json:"activeTargets"`
	}
	if err := s.api("/api/v1/targets?state=active", &data); err != nil {
		return nil, err
	}
	var out []target
	for _, tg := range data.ActiveTargets {
		if tg.ScrapePool == pool {
			out = append(out, tg)
		}
	}
	return out, nil
}

// rule is one rule from /api/v1/rules.
type rule struct {
	Name      string `json:"name"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
	Type      string `json:"type"`
}

// rules returns every loaded rule.
func (s *promServer) rules() ([]rule, error) {
	var data struct {
		Groups []struct {
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	if err := s.api("/api/v1/rules", &data); err != nil {
		return nil, err
	}
	var out []rule
	for _, g := range data.Groups {
		out = append(out, g.Rules...)
	}
	return out, nil
}

// api GETs a Prometheus HTTP API path and decodes the data field of a
// successful answer into v.
func (s *promServer) api(path string, v any) error {
	resp, err := s.client.Get(s.URL + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("GET %s: status %d: %.200s", path, resp.StatusCode, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("GET %s: %s", path, env.Error)
	}
	return json.Unmarshal(env.Data, v)
}
