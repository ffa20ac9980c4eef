package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/infergate/infergate/internal/config"
)

// WorkloadClasses is fixed-length chats of several request classes
// (objective, fairness ID, TTFT objective), mixed by share: for flow-control
// scenarios.
const WorkloadClasses = "classes"

// Classes configures [WorkloadClasses]: every request has a prompt of
// InputTokens and OutputTokens of output, and belongs to one of Mix, drawn
// by share (seeded).
type Classes struct {
	InputTokens  int     `yaml:"inputTokens" json:"inputTokens"`
	OutputTokens int     `yaml:"outputTokens" json:"outputTokens"`
	Mix          []Class `yaml:"mix" json:"mix"`
}

// Class is one kind of request of a [Classes] workload.
type Class struct {
	// Name labels the class in the report.
	Name string `yaml:"name" json:"name"`
	// Share is the class's relative share of the requests.
	Share float64 `yaml:"share" json:"share"`
	// Objective is sent as x-llm-d-inference-objective: one of the
	// benchmark gateway's objectives (see [benchObjectives]); "" sends
	// none (priority 0).
	Objective string `yaml:"objective" json:"objective"`
	// FairnessID is sent as x-llm-d-inference-fairness-id; "" sends none.
	FairnessID string `yaml:"fairnessID" json:"fairnessID"`
	// SLO is the class's TTFT objective in model time, sent as
	// x-llm-d-slo-ttft-ms; 0 means none (a completed request meets it).
	// A request of a class counts towards goodput when it completes
	// within its class's SLO (TPOT is not judged).
	SLO Duration `yaml:"slo" json:"slo"`
	// MaxInFlight, when > 0, caps the class's requests in flight at the
	// client: a tenant capped at its source. Requests over the cap wait at
	// the client in arrival order, and that wait counts in their TTFT and
	// E2E (the user waited). 0 means no cap.
	MaxInFlight int `yaml:"maxInFlight" json:"maxInFlight,omitempty"`
}

// classCaps returns the client-side in-flight caps of c's classes by
// class name; nil when none is capped.
func classCaps(c Classes) map[string]int {
	var caps map[string]int
	for _, k := range c.Mix {
		if k.MaxInFlight > 0 {
			if caps == nil {
				caps = map[string]int{}
			}
			caps[k.Name] = k.MaxInFlight
		}
	}
	return caps
}

// benchObjectives are the objectives of every benchmark gateway, for
// classes to name.
var benchObjectives = []config.Objective{
	{Name: "critical", Priority: 10},
	{Name: "standard", Priority: 0},
	{Name: "sheddable", Priority: -1},
}

// classRequests returns n fixed-length chats, each of a class drawn by
// share.
func classRequests(c Classes, n int, model string, rnd *rand.Rand) []Request {
	total := 0.0
	for _, k := range c.Mix {
		total += k.Share
	}
	reqs := make([]Request, n)
	for i := range reqs {
		x := rnd.Float64() * total
		k := c.Mix[len(c.Mix)-1]
		for _, m := range c.Mix {
			if x < m.Share {
				k = m
				break
			}
			x -= m.Share
		}
		reqs[i] = Request{
			Body:         chatBody(model, c.OutputTokens, message{"user", appendWords(nil, rnd, c.InputTokens)}),
			Model:        model,
			Group:        -1,
			PromptTokens: c.InputTokens,
			OutputTokens: c.OutputTokens,
			Class:        k.Name,
			Objective:    k.Objective,
			FairnessID:   k.FairnessID,
			SLO:          k.SLO.Duration,
		}
	}
	return reqs
}

// validateClasses reports the problems of a classes workload at p.
func validateClasses(p string, c Classes) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.InputTokens <= 0 || c.OutputTokens <= 0 {
		bad("%s.classes: inputTokens and outputTokens must be positive", p)
	}
	if len(c.Mix) == 0 {
		bad("%s.classes.mix needs at least one class", p)
	}
	names := map[string]bool{}
	for i, k := range c.Mix {
		kp := fmt.Sprintf("%s.classes.mix[%d]", p, i)
		if k.Name == "" || names[k.Name] || strings.Contains(k.Name, "@") {
			bad("%s.name must be set, unique and without '@', got %q", kp, k.Name)
		}
		names[k.Name] = true
		if !(k.Share > 0) {
			bad("%s.share must be positive, got %v", kp, k.Share)
		}
		known := k.Objective == ""
		for _, o := range benchObjectives {
			known = known || o.Name == k.Objective
		}
		if !known {
			bad("%s.objective %q is not one of critical, standard, sheddable", kp, k.Objective)
		}
		if k.SLO.Duration < 0 {
			bad("%s.slo must not be negative", kp)
		}
		if k.MaxInFlight < 0 {
			bad("%s.maxInFlight must not be negative", kp)
		}
	}
	return errs
}

// ClassResult is one request class's share of a run, in model time.
type ClassResult struct {
	Requests  int `json:"requests"`
	Completed int `json:"completed"`
	// Rejected counts answers other than 200 (429 and 503 included).
	Rejected int `json:"rejected"`
	// MetSLO counts completed requests within the class's TTFT objective.
	MetSLO int     `json:"metSlo"`
	TTFT   Latency `json:"ttft"`
	// QueueWait is the completed requests' wait in the gateway's flow
	// control queue (the x-infergate-queue-wait-ms response header; 0 for
	// a request admitted at once), in model ms.
	QueueWait Latency `json:"queueWait"`
	// AdmittedTTFT is the completed requests' TTFT from their admission
	// by the gateway's flow control: TTFT minus the queue wait and any
	// hold at the client (the pick, the data plane and the replica), in
	// model ms. It tells a gap made in the gateway's queue from one made
	// on the replicas.
	AdmittedTTFT Latency `json:"admittedTtft"`
	// Goodput is MetSLO per second of the arrival window (of the run
	// when requests are not sent on a schedule); see [goodputDenominator].
	Goodput float64 `json:"goodput"`
}

// goodputDenominator returns the seconds a classes workload's goodput is
// divided by: the arrival window when the requests were sent on a
// schedule, otherwise the run's duration. Every strategy of a scenario
// gets the same requests at the same times, so the arrival window is the
// same for all of them: an arm that serves part of its backlog after the
// last arrival (queued requests within their TTL) is not charged the
// longer run, and one that rejects requests does not gain from ending
// sooner.
func goodputDenominator(res *RunResult) float64 {
	if res.ArrivalWindowSeconds > 0 {
		return res.ArrivalWindowSeconds
	}
	return res.DurationSeconds
}

// GoodputDefinition says how goodput is computed for a classes workload,
// for reports.
const GoodputDefinition = "goodput = completed requests within their own class's TTFT SLO (a class without one: every completed request) ÷ the arrival window (model time from the first scheduled send to the last; the same for every strategy of a scenario); \"per run s\" divides by the whole run until the last answer instead"

// summarizeClasses fills res.Classes and replaces res.Goodput with the
// per-class goodput (requests within their own class's SLO per second of
// [goodputDenominator]) when the workload has classes.
func summarizeClasses(recs []record, reqs []Request, scale float64, res *RunResult) {
	if len(reqs) == 0 || reqs[0].Class == "" {
		return
	}
	res.Classes = map[string]*ClassResult{}
	ttfts, waits, admitted := map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	good := 0
	for i := range recs {
		rq, rec := &reqs[i], &recs[i]
		c := res.Classes[rq.Class]
		if c == nil {
			c = &ClassResult{}
			res.Classes[rq.Class] = c
		}
		c.Requests++
		if !rec.ok() {
			if rec.Status != 0 && rec.Status != 200 {
				c.Rejected++
			}
			continue
		}
		c.Completed++
		t := ms(rec.TTFT) * scale
		ttfts[rq.Class] = append(ttfts[rq.Class], t)
		waits[rq.Class] = append(waits[rq.Class], ms(rec.QueueWait)*scale)
		admitted[rq.Class] = append(admitted[rq.Class], ms(rec.TTFT-rec.Held-rec.QueueWait)*scale)
		if rq.SLO == 0 || t <= ms(rq.SLO) {
			c.MetSLO++
			good++
		}
	}
	d := goodputDenominator(res)
	for name, c := range res.Classes {
		c.TTFT = latencyOf(ttfts[name])
		c.QueueWait = latencyOf(waits[name])
		c.AdmittedTTFT = latencyOf(admitted[name])
		if d > 0 {
			c.Goodput = float64(c.MetSLO) / d
		}
	}
	if d > 0 {
		res.Goodput = float64(good) / d
	}
	if res.DurationSeconds > 0 {
		res.GoodputPerRunSecond = float64(good) / res.DurationSeconds
	}
	if res.Requests > 0 {
		res.GoodputFraction = float64(good) / float64(res.Requests)
	}
}

// classMetric returns the value of a per-class target metric
// ("<metric>@<class>"), and false when name is not one.
func classMetric(name string, r *RunResult) (float64, bool) {
	m, class, ok := strings.Cut(name, "@")
	if !ok {
		return 0, false
	}
	c := r.Classes[class]
	if c == nil {
		return 0, true
	}
	switch m {
	case "ttft_p50":
		return c.TTFT.P50, true
	case "ttft_p90":
		return c.TTFT.P90, true
	case "ttft_p99":
		return c.TTFT.P99, true
	case "queue_wait_p90":
		return c.QueueWait.P90, true
	case "admitted_ttft_p90":
		return c.AdmittedTTFT.P90, true
	case "rejected":
		return float64(c.Rejected), true
	case "goodput":
		return c.Goodput, true
	}
	return 0, false
}

// classMetricNames are the metrics a target may qualify with "@<class>".
var classMetricNames = []string{"ttft_p50", "ttft_p90", "ttft_p99", "queue_wait_p90", "admitted_ttft_p90", "rejected", "goodput"}

// isClassMetric reports whether name is a valid per-class metric name.
func isClassMetric(name string) bool {
	m, class, ok := strings.Cut(name, "@")
	if !ok || class == "" {
		return false
	}
	for _, n := range classMetricNames {
		if n == m {
			return true
		}
	}
	return false
}

// flowStrategy splits a strategy name into the scheduler strategy and the
// flow-control mode it runs with: "default@queue" is the default strategy
// in queue mode; a name without "@" keeps the gateway's default mode ("").
func flowStrategy(name string) (strategy, mode string) {
	s, m, _ := strings.Cut(name, "@")
	return s, m
}

// flowModes are the modes a strategy may name after "@".
var flowModes = []string{config.FlowModeOff, config.FlowModeShed, config.FlowModeQueue}

// scaleFlowControl divides flow control's time-based settings by
// timeScale, like the other gateway settings, and sets the mode.
func scaleFlowControl(fc *config.FlowControl, mode string, timeScale float64) {
	fc.Mode = mode
	for _, d := range []*config.Duration{&fc.TTL, &fc.NoEndpointHold} {
		d.Duration = time.Duration(float64(d.Duration) / timeScale)
	}
}
