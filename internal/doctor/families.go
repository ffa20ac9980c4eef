package doctor

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metric families the checks look for.
const (
	familyRequests       = "inference_objective_request_total"
	familyLegacyRequests = "inference_model_request_total"
	familyDuration       = "inference_objective_request_duration_seconds"
	familyLegacyDuration = "inference_model_request_duration_seconds"
	familyReadyPods      = "inference_pool_ready_pods"
	familyKVCache        = "inference_pool_average_kv_cache_utilization"
	familyQueue          = "inference_pool_average_queue_size"
	familyInfo           = "inference_extension_info"
)

// llmdTwin names each family's llm-d router v0.10 copy
// (metrics.nameSets: llm-d), which the checks read when a gateway emits
// only llm-d's names.
var llmdTwin = map[string]string{
	familyRequests:  "llm_d_epp_request_total",
	familyDuration:  "llm_d_epp_request_duration_seconds",
	familyReadyPods: "llm_d_epp_ready_endpoints",
	familyKVCache:   "llm_d_epp_average_kv_cache_utilization",
	familyQueue:     "llm_d_epp_average_queue_size",
	familyInfo:      "llm_d_epp_info",
}

// name returns the family f holds for the GIE family gie: gie itself, else
// its llm_d_epp_* twin when only that is exported, else gie.
func (f families) name(gie string) string {
	if _, ok := f[gie]; ok {
		return gie
	}
	if twin, ok := llmdTwin[gie]; ok {
		if _, ok := f[twin]; ok {
			return twin
		}
	}
	return gie
}

// families is one parsed exposition.
type families map[string]*dto.MetricFamily

// parseExposition parses Prometheus text exposition.
func parseExposition(body []byte) (families, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return families(mfs), nil
}

// sum adds up the values of every series of a counter, gauge or untyped
// family (sample counts for histograms and summaries); false when absent.
func (f families) sum(name string) (float64, bool) {
	mf, ok := f[name]
	if !ok {
		return 0, false
	}
	var s float64
	for _, m := range mf.GetMetric() {
		s += value(m)
	}
	return s, true
}

// value returns a series' value (sample count for histograms and summaries).
func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	case m.GetSummary() != nil:
		return float64(m.GetSummary().GetSampleCount())
	}
	return 0
}

// typeProblem returns a sentence when family name exists with another type.
func (f families) typeProblem(name string, want dto.MetricType) string {
	mf, ok := f[name]
	if !ok || mf.GetType() == want {
		return ""
	}
	return fmt.Sprintf("%s has type %s, dashboards expect %s", name,
		strings.ToLower(mf.GetType().String()), strings.ToLower(want.String()))
}

// label returns the value of label name on m.
func label(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// checkRequests reports the request counters.
func (r *Report) checkRequests(f families) {
	familyRequests, familyInfo := f.name(familyRequests), f.name(familyInfo)
	cur, hasCur := f.sum(familyRequests)
	legacy, hasLegacy := f.sum(familyLegacyRequests)
	if p := f.typeProblem(familyRequests, dto.MetricType_COUNTER); p != "" {
		r.add(CheckRequests, Fail, p, "is this an infergate or endpoint-picker metrics endpoint?")
		return
	}
	switch {
	case hasCur && hasLegacy:
		r.add(CheckRequests, Pass, fmt.Sprintf("%s = %s (legacy %s too)", familyRequests, count(cur), familyLegacyRequests), "")
	case hasCur:
		r.add(CheckRequests, Pass, fmt.Sprintf("%s = %s", familyRequests, count(cur)), "")
	case hasLegacy:
		r.add(CheckRequests, Warn, fmt.Sprintf("only the legacy %s = %s", familyLegacyRequests, count(legacy)),
			"dashboards for GIE v1.1 and later query "+familyRequests+"; use the \"(< v1.1.0)\" dashboard or upgrade")
	case hasFamily(f, familyInfo):
		r.add(CheckRequests, Warn, "no "+familyRequests+" yet: no request has gone through the gateway",
			"send a request to the gateway's OpenAI port; the counter appears with the first request")
	default:
		r.add(CheckRequests, Fail, "neither "+familyRequests+" nor "+familyLegacyRequests+" is exported",
			"is --url the gateway's metrics endpoint? (the OpenAI port or a model server exports other metrics)")
	}
}

// checkLatency reports the latency histogram.
func (r *Report) checkLatency(f families) {
	familyDuration, familyInfo := f.name(familyDuration), f.name(familyInfo)
	if p := f.typeProblem(familyDuration, dto.MetricType_HISTOGRAM); p != "" {
		r.add(CheckLatency, Fail, p, "is this an infergate or endpoint-picker metrics endpoint?")
		return
	}
	n, ok := f.sum(familyDuration)
	if !ok {
		n, ok = f.sum(familyLegacyDuration)
	}
	switch {
	case ok:
		r.add(CheckLatency, Pass, fmt.Sprintf("%s: %s requests observed", familyDuration, count(n)), "")
	case hasFamily(f, familyInfo):
		r.add(CheckLatency, Warn, "no "+familyDuration+" yet: no request has succeeded",
			"send a request that succeeds; latency panels stay empty until then")
	default:
		r.add(CheckLatency, Fail, familyDuration+" is not exported",
			"is --url the gateway's metrics endpoint?")
	}
}

// checkReadyPods reports each pool's ready endpoints.
func (r *Report) checkReadyPods(f families) {
	familyReadyPods := f.name(familyReadyPods)
	mf, ok := f[familyReadyPods]
	if !ok || len(mf.GetMetric()) == 0 {
		r.add(CheckReadyPods, Fail, familyReadyPods+" is not exported",
			"is --url the gateway's metrics endpoint? every infergate pool exports it")
		return
	}
	var ready, empty []string
	for _, m := range mf.GetMetric() {
		name := oneLine(label(m, "name"))
		v := value(m)
		if v > 0 {
			ready = append(ready, fmt.Sprintf("%s: %s", name, count(v)))
		} else {
			empty = append(empty, name)
		}
	}
	sort.Strings(ready)
	sort.Strings(empty)
	if len(empty) > 0 {
		r.add(CheckReadyPods, Fail, "no ready endpoints in pool "+strings.Join(empty, ", ")+" (none has fresh model-server metrics)",
			"the gateway cannot scrape its model servers: check the endpoints' addresses, that their /metrics answer, and the engine type (vllm, sglang, trtllm)")
		return
	}
	r.add(CheckReadyPods, Pass, "ready endpoints per pool: "+strings.Join(ready, ", "), "")
}

// checkPoolGauges reports the pool averages the dashboards plot.
func (r *Report) checkPoolGauges(f families) {
	familyKVCache, familyQueue := f.name(familyKVCache), f.name(familyQueue)
	var missing []string
	for _, name := range []string{familyKVCache, familyQueue} {
		if !hasFamily(f, name) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		r.add(CheckPoolGauges, Fail, "missing "+strings.Join(missing, ", "),
			"is --url the gateway's metrics endpoint? these pool gauges fill the KV-cache and queue panels")
		return
	}
	kv, _ := f.sum(familyKVCache)
	q, _ := f.sum(familyQueue)
	r.add(CheckPoolGauges, Pass, fmt.Sprintf("average KV cache %.0f%%, average queue %.1f (summed over pools)", 100*kv, q), "")
}

// checkBuildInfo reports inference_extension_info.
func (r *Report) checkBuildInfo(f families) {
	familyInfo := f.name(familyInfo)
	mf, ok := f[familyInfo]
	if !ok || len(mf.GetMetric()) == 0 {
		r.add(CheckBuildInfo, Fail, familyInfo+" is not exported",
			"is --url the gateway's metrics endpoint? the Build Info panel needs it")
		return
	}
	m := mf.GetMetric()[0]
	r.add(CheckBuildInfo, Pass, fmt.Sprintf("commit=%s build_ref=%s", oneLine(label(m, "commit")), oneLine(label(m, "build_ref"))), "")
}

// hasFamily reports whether f has a family called name.
func hasFamily(f families, name string) bool {
	_, ok := f[name]
	return ok
}

// count formats a counter value.
func count(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%g", v)
}

// changed reports whether any series value differs between two scrapes.
func changed(a, b families) bool {
	for name, mfa := range a {
		mfb, ok := b[name]
		if !ok || len(mfa.GetMetric()) != len(mfb.GetMetric()) {
			return true
		}
		va, vb := 0.0, 0.0
		for _, m := range mfa.GetMetric() {
			va += value(m)
		}
		for _, m := range mfb.GetMetric() {
			vb += value(m)
		}
		if va != vb && !(math.IsNaN(va) && math.IsNaN(vb)) {
			return true
		}
	}
	return len(a) != len(b)
}
