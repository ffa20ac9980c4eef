package bench

import (
	"strings"
	"testing"
	"time"
)

func TestClassesWorkload(t *testing.T) {
	t.Parallel()
	s, err := ParseSuite([]byte(`
name: t
scenarios:
  - name: c
    strategies: ["round-robin@off", "default@queue"]
    workload:
      type: classes
      requests: 1000
      classes:
        inputTokens: 8
        outputTokens: 4
        mix:
          - {name: critical, share: 1, objective: critical, fairnessID: a, slo: 1s}
          - {name: rest, share: 3, objective: sheddable}
    arrival: {type: poisson, rate: 1}
    targets:
      - {name: x, metric: "ttft_p99@critical", strategy: "default@queue", max: 1000}
`))
	if err != nil {
		t.Fatal(err)
	}
	sc := s.Scenarios[0]
	reqs, err := generate(sc.Workload, sc.Fleet, s.Model, 1)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, r := range reqs {
		n[r.Class]++
		if r.Class == "critical" && (r.Objective != "critical" || r.FairnessID != "a" || r.SLO != time.Second) {
			t.Fatalf("critical request %+v", r)
		}
	}
	if n["critical"] < 200 || n["critical"] > 300 {
		t.Errorf("%d critical of 1000 at share 1/4", n["critical"])
	}
	// Per-class results: one critical in its SLO, one past it, one 429.
	recs := []record{
		{Index: 0, Status: 200, TTFT: 500 * time.Millisecond},
		{Index: 1, Status: 200, TTFT: 2 * time.Second},
		{Index: 2, Status: 429},
	}
	crit := []Request{{Class: "critical", SLO: time.Second}, {Class: "critical", SLO: time.Second}, {Class: "critical", SLO: time.Second}}
	res := &RunResult{Requests: 3, DurationSeconds: 2}
	summarizeClasses(recs, crit, 1, res)
	c := res.Classes["critical"]
	if c.Completed != 2 || c.Rejected != 1 || c.MetSLO != 1 || res.Goodput != 0.5 {
		t.Fatalf("class result %+v, goodput %v", c, res.Goodput)
	}
	if v, ok := classMetric("rejected@critical", res); !ok || v != 1 {
		t.Fatalf("rejected@critical = %v, %v", v, ok)
	}
}

func TestFlowStrategiesValidate(t *testing.T) {
	t.Parallel()
	_, err := ParseSuite([]byte(`
name: t
scenarios:
  - name: c
    strategies: ["default@drop", "direct@queue"]
    workload: {type: fixed, requests: 1, fixed: {inputTokens: 1, outputTokens: 1}}
    arrival: {type: poisson, rate: 1}
`))
	if err == nil || !strings.Contains(err.Error(), `"default@drop"`) || !strings.Contains(err.Error(), `"direct@queue"`) {
		t.Fatalf("err = %v, want both strategies refused", err)
	}
	cfg, err := gatewayConfig([]string{"127.0.0.1:1"}, "least-request@shed", 4, "127.0.0.1:0", "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Scheduler.Strategy != "least-request" || cfg.FlowControl.Mode != "shed" || cfg.FlowControl.TTL.Duration != 15*time.Second {
		t.Fatalf("strategy %q, mode %q, ttl %v", cfg.Scheduler.Strategy, cfg.FlowControl.Mode, cfg.FlowControl.TTL)
	}
}
