package dashboard

import (
	"context"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Families the sampler reads from the gateway's registry, under each
// metric name set's name (metrics.nameSets), in order of preference: the
// copies count the same requests, so whichever set is enabled feeds the
// charts.
var (
	requestFamilies  = []string{"inference_objective_request_total", "llm_d_epp_request_total", "inference_model_request_total"}
	errorFamilies    = []string{"inference_objective_request_error_total", "llm_d_epp_request_error_total", "inference_model_request_error_total"}
	durationFamilies = []string{"inference_objective_request_duration_seconds", "llm_d_epp_request_duration_seconds", "inference_model_request_duration_seconds"}
)

// Defaults of [SamplerOptions].
const (
	// DefaultSampleInterval is how often the sampler reads the counters.
	DefaultSampleInterval = time.Second
	// DefaultHistory is how many points the charts show (5 minutes at 1 s).
	DefaultHistory = 300
	// DefaultLatencyWindow is how many intervals one latency-percentile
	// point summarizes; per-second histograms are too sparse to be useful.
	DefaultLatencyWindow = 10
)

// SamplerOptions configure a [Sampler].
type SamplerOptions struct {
	// Gatherer is the gateway's metric registry. Required.
	Gatherer prometheus.Gatherer
	// Interval between samples; default [DefaultSampleInterval].
	Interval time.Duration
	// History is the number of chart points kept; default [DefaultHistory].
	History int
	// LatencyWindow is the number of intervals a percentile point covers;
	// default [DefaultLatencyWindow].
	LatencyWindow int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives gather errors; nil discards.
	Logger *slog.Logger
}

// Sampler turns the gateway's cumulative request counters into the
// dashboard's time series: it reads inference_objective_request_total,
// request_error_total and request_duration_seconds (summed over all label
// sets) from the registry once per interval into a fixed-size ring, and
// derives request and error rates and latency percentiles from the
// differences between samples. Memory is bounded by History +
// LatencyWindow samples. Safe for concurrent use.
type Sampler struct {
	g        prometheus.Gatherer
	interval time.Duration
	window   int
	now      func() time.Time
	log      *slog.Logger

	mu      sync.Mutex
	samples []sample // ring
	next, n int
}

// sample is the cumulative state of the counters at one moment.
type sample struct {
	at               time.Time
	requests, errors float64
	buckets          []bucket // cumulative, merged over label sets
}

// Series is what the charts plot: one point per interval, oldest first.
type Series struct {
	// IntervalSeconds is the time between points.
	IntervalSeconds float64 `json:"intervalSeconds"`
	// LatencyWindowSeconds is the span each percentile point covers.
	LatencyWindowSeconds float64 `json:"latencyWindowSeconds"`
	// RequestsTotal and ErrorsTotal are the counters at the latest sample.
	RequestsTotal float64 `json:"requestsTotal"`
	ErrorsTotal   float64 `json:"errorsTotal"`
	// Points are the chart points.
	Points []Point `json:"points"`
}

// Point is one chart point.
type Point struct {
	// At is the time of the sample that ends the point's interval, in
	// milliseconds since the Unix epoch.
	At int64 `json:"t"`
	// RequestRate and ErrorRate are per second over the interval.
	RequestRate float64 `json:"requestRate"`
	ErrorRate   float64 `json:"errorRate"`
	// P50, P90 and P99 are latency percentiles in seconds over the latency
	// window ending at this point; nil when no request finished in it.
	P50 *float64 `json:"p50"`
	P90 *float64 `json:"p90"`
	P99 *float64 `json:"p99"`
}

// NewSampler returns a sampler; call [Sampler.Run] to start sampling. It
// panics without a Gatherer, which is a wiring bug.
func NewSampler(o SamplerOptions) *Sampler {
	if o.Gatherer == nil {
		panic("dashboard.NewSampler: Gatherer is required")
	}
	if o.Interval <= 0 {
		o.Interval = DefaultSampleInterval
	}
	if o.History <= 0 {
		o.History = DefaultHistory
	}
	if o.LatencyWindow <= 0 {
		o.LatencyWindow = DefaultLatencyWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sampler{
		g:        o.Gatherer,
		interval: o.Interval,
		window:   o.LatencyWindow,
		now:      o.Now,
		log:      o.Logger,
		samples:  make([]sample, o.History+o.LatencyWindow+1),
	}
}

// Run samples once per interval until ctx is done. The caller owns the
// goroutine that runs it.
func (s *Sampler) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		s.Sample()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sample reads the counters now and appends a sample. A gather error is
// logged; whatever was gathered is still used.
func (s *Sampler) Sample() {
	mfs, err := s.g.Gather()
	if err != nil {
		s.log.Warn("dashboard sampler: gathering metrics", slog.Any("err", err))
	}
	smp := sample{at: s.now()}
	byName := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		byName[mf.GetName()] = mf
	}
	if mf := first(byName, requestFamilies); mf != nil {
		smp.requests = sumCounters(mf)
	}
	if mf := first(byName, errorFamilies); mf != nil {
		smp.errors = sumCounters(mf)
	}
	if mf := first(byName, durationFamilies); mf != nil {
		smp.buckets = mergeHistograms(mf)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples[s.next] = smp
	s.next = (s.next + 1) % len(s.samples)
	s.n = min(s.n+1, len(s.samples))
}

// first returns the first of names present in byName, nil when none is.
func first(byName map[string]*dto.MetricFamily, names []string) *dto.MetricFamily {
	for _, n := range names {
		if mf, ok := byName[n]; ok {
			return mf
		}
	}
	return nil
}

// sumCounters adds up every series of a counter family.
func sumCounters(mf *dto.MetricFamily) float64 {
	var sum float64
	for _, m := range mf.GetMetric() {
		sum += m.GetCounter().GetValue()
	}
	return sum
}

// mergeHistograms adds up the cumulative buckets of every series of a
// histogram family, by upper bound, with a final +Inf bucket.
func mergeHistograms(mf *dto.MetricFamily) []bucket {
	byUpper := make(map[float64]float64)
	for _, m := range mf.GetMetric() {
		h := m.GetHistogram()
		for _, b := range h.GetBucket() {
			byUpper[b.GetUpperBound()] += float64(b.GetCumulativeCount())
		}
		byUpper[math.Inf(1)] += float64(h.GetSampleCount())
	}
	out := make([]bucket, 0, len(byUpper))
	for u, c := range byUpper {
		out = append(out, bucket{upper: u, count: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].upper < out[j].upper })
	return out
}

// Series returns the chart points for the samples held, oldest first.
func (s *Sampler) Series() Series {
	s.mu.Lock()
	ordered := make([]sample, 0, s.n)
	for i := s.n; i >= 1; i-- {
		ordered = append(ordered, s.samples[(s.next-i+len(s.samples))%len(s.samples)])
	}
	s.mu.Unlock()

	out := Series{
		IntervalSeconds:      s.interval.Seconds(),
		LatencyWindowSeconds: (time.Duration(s.window) * s.interval).Seconds(),
		Points:               []Point{},
	}
	if len(ordered) == 0 {
		return out
	}
	last := ordered[len(ordered)-1]
	out.RequestsTotal, out.ErrorsTotal = last.requests, last.errors
	first := max(1, len(ordered)-(len(s.samples)-s.window-1))
	for i := first; i < len(ordered); i++ {
		prev, cur := ordered[i-1], ordered[i]
		dt := cur.at.Sub(prev.at).Seconds()
		if dt <= 0 {
			continue
		}
		p := Point{
			At:          cur.at.UnixMilli(),
			RequestRate: max(0, cur.requests-prev.requests) / dt,
			ErrorRate:   max(0, cur.errors-prev.errors) / dt,
		}
		window := diffBuckets(cur.buckets, ordered[max(0, i-s.window)].buckets)
		p.P50, p.P90, p.P99 = quantilePtr(0.5, window), quantilePtr(0.9, window), quantilePtr(0.99, window)
		out.Points = append(out.Points, p)
	}
	return out
}

// diffBuckets returns cur minus old bucket by bucket (old may be shorter or
// empty: label sets appear over time). Negative differences count as 0.
func diffBuckets(cur, old []bucket) []bucket {
	out := make([]bucket, len(cur))
	j := 0
	for i, b := range cur {
		for j < len(old) && old[j].upper < b.upper {
			j++
		}
		var was float64
		if j < len(old) && old[j].upper == b.upper {
			was = old[j].count
		}
		out[i] = bucket{upper: b.upper, count: max(0, b.count-was)}
	}
	return out
}

// quantilePtr returns the q-quantile of buckets, or nil without observations.
func quantilePtr(q float64, buckets []bucket) *float64 {
	v, ok := quantile(q, buckets)
	if !ok {
		return nil
	}
	return &v
}
