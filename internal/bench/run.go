package bench

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// runSpec is one run: a strategy at a sweep point of a scenario.
type runSpec struct {
	scenario  *Scenario
	strategy  string
	point     float64
	reqs      []Request
	timeScale float64
	seed      int64
	slo       SLO
	// gatewayCPU is the CPU the gateway process is pinned to, -1 for none.
	gatewayCPU int
}

// sampleInterval is the wall-clock period of the KV and queue sampler.
const sampleInterval = 100 * time.Millisecond

// runOne runs spec on a fresh fleet (and a fresh gateway unless the
// strategy is direct) and measures it.
func (r *runner) runOne(ctx context.Context, spec runSpec, done func()) (*RunResult, error) {
	sc := spec.scenario
	var gw gatewayInstance
	var urls, metricsURLs []string
	if spec.strategy == StrategyTarget {
		urls = []string{strings.TrimSuffix(r.o.Target, "/") + "/v1/chat/completions"}
		return r.measure(ctx, spec, nil, urls, nil, done)
	}
	t0 := time.Now()
	fl, err := startFleet(sc.Fleet, spec.timeScale, spec.seed)
	if err != nil {
		return nil, err
	}
	defer func() {
		t := time.Now()
		_ = fl.stop()
		r.log.Debug("fleet stopped", "took", time.Since(t))
	}()
	for _, a := range fl.addrs {
		metricsURLs = append(metricsURLs, "http://"+a+"/metrics")
	}
	if spec.strategy == StrategyDirect {
		for _, a := range fl.addrs {
			urls = append(urls, "http://"+a+"/v1/chat/completions")
		}
	} else {
		gw, err = r.startGateway(fl.addrs, spec.strategy, spec.timeScale, sc.Scheduler, spec.gatewayCPU)
		if err != nil {
			return nil, err
		}
		r.log.Debug("gateway started", "took", time.Since(t0))
		defer func() {
			t := time.Now()
			if err := gw.stop(); err != nil {
				r.log.Warn("gateway stop", "err", err)
			}
			r.log.Debug("gateway stopped", "took", time.Since(t))
		}()
		urls = []string{gw.url() + "/v1/chat/completions"}
	}
	res, err := r.measure(ctx, spec, gw, urls, metricsURLs, done)
	if res != nil && gw != nil {
		res.Plane = PlaneNative
		if eg, ok := gw.(*extProcGateway); ok {
			res.Plane = PlaneExtProcStandIn
			// A stand-in process reports its counters when it stops; the
			// deferred stop returns (and logs) this stop's error.
			_ = eg.stop()
			res.PlaneLatency = planeLatency(eg.standInCounters())
		}
	}
	return res, err
}

// measure drives spec's load at urls and measures it, reading the
// replicas' counters at metricsURLs and the gateway's resource use when
// they are given.
func (r *runner) measure(ctx context.Context, spec runSpec, gw gatewayInstance, urls, metricsURLs []string, done func()) (*RunResult, error) {
	sc := spec.scenario
	var err error

	arrival := sc.Arrival.at(spec.point)
	modelOffsets := schedule(arrival, len(spec.reqs), spec.seed)
	var offsets []time.Duration
	if modelOffsets != nil {
		offsets = make([]time.Duration, len(modelOffsets))
		for i, o := range modelOffsets {
			offsets[i] = time.Duration(float64(o) / spec.timeScale)
		}
	}

	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	var before, dpBefore procUsage
	measured, dpMeasured := false, false
	if gw != nil {
		if before, measured, err = gw.usage(); err != nil {
			return nil, err
		}
	}
	dp, _ := gw.(dataPlaneMeter)
	if dp != nil {
		if dpBefore, dpMeasured, err = dp.dataPlaneUsage(); err != nil {
			return nil, err
		}
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	smp := new(sampler)
	var wg sync.WaitGroup
	if sc.Kind == KindRouting && len(metricsURLs) > 0 {
		wg.Go(func() { smp.run(sampleCtx, hc, metricsURLs, sampleInterval) })
	}
	c := newClient(max(arrival.Concurrency, 64))
	defer c.close()
	recs, wall := drive(ctx, c, load{
		urls:        urls,
		reqs:        spec.reqs,
		offsets:     offsets,
		concurrency: arrival.Concurrency,
		caps:        classCaps(spec.scenario.Workload.Classes),
		done:        done,
	})
	stopSampling()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	var window float64
	if n := len(modelOffsets); n > 0 {
		window = modelOffsets[n-1].Seconds()
	}
	res := summarize(recs, spec, wall, window)
	res.Fingerprint = fingerprint(spec.reqs)
	if offsets != nil {
		for i := range recs {
			if recs[i].Err != errNotSent {
				lag := recs[i].Sent - offsets[i]
				res.SendLagMaxMs = max(res.SendLagMaxMs, ms(lag)*spec.timeScale)
			}
		}
	}
	res.KVUsageMean, res.KVUsagePeak, res.WaitingPeak = smp.result()

	var queries, hits float64
	var engineTTFT histogram
	for _, u := range metricsURLs {
		text, err := fetch(ctx, hc, u)
		if err != nil {
			return nil, fmt.Errorf("read replica counters: %w", err)
		}
		engineTTFT.addExposition(text, metricTTFT)
		m := sumSamples(text, metricPrefixQueries, metricPrefixHits, metricPreemptions)
		queries += m[metricPrefixQueries]
		hits += m[metricPrefixHits]
		res.Preemptions += m[metricPreemptions]
	}
	if len(metricsURLs) > 0 {
		res.EngineTTFT = &Latency{
			P50: 1000 * engineTTFT.quantile(0.5),
			P90: 1000 * engineTTFT.quantile(0.9),
			P99: 1000 * engineTTFT.quantile(0.99),
		}
	}
	res.PromptTokens = queries
	switch {
	case queries > 0:
		res.PrefixHitRate = hits / queries
	case len(metricsURLs) == 0:
		// An external target: only the responses' usage tells.
		res.PrefixHitRate = res.UsageCachedRate
	}
	if sc.Workload.Type == WorkloadSharedPrefix && queries > 0 {
		res.HitCeiling = hitCeiling(sc.Workload.SharedPrefix, simProfile(sc.Fleet).BlockSize, queries)
	}

	if gw != nil && measured {
		after, _, err := gw.usage()
		if err != nil {
			return nil, err
		}
		res.Gateway = usageSince(before, after, res.Requests)
		if m, err := scrapeSamples(ctx, hc, gw.metricsURL(), "infergate_model_server_scrape_errors_total"); err == nil {
			res.Gateway.ScrapeErrors = m["infergate_model_server_scrape_errors_total"]
		}
	}
	if dpMeasured {
		after, _, err := dp.dataPlaneUsage()
		if err != nil {
			return nil, err
		}
		res.DataPlane = usageSince(dpBefore, after, res.Requests)
	}
	return res, nil
}

// dataPlaneMeter is a gateway whose data plane may run in a process of its
// own (the Envoy stand-in of an ext_proc arm), measured apart from it.
type dataPlaneMeter interface {
	// dataPlaneUsage returns the data plane's resource use so far; ok is
	// false when it cannot be measured apart from this process.
	dataPlaneUsage() (u procUsage, ok bool, err error)
}

// summarize computes the client-side measurements of a run in model time;
// window is the arrival window in model seconds (0 when requests are not
// sent on a schedule).
func summarize(recs []record, spec runSpec, wall time.Duration, window float64) *RunResult {
	scale := spec.timeScale
	res := &RunResult{
		Strategy:    spec.strategy,
		Point:       spec.point,
		Requests:    len(recs),
		Errors:      map[string]int{},
		PerReplica:  map[string]int{},
		WallSeconds: wall.Seconds(),
		// The schedule is the same for every strategy of a scenario.
		ArrivalWindowSeconds: window,
	}
	res.DurationSeconds = wall.Seconds() * scale
	var ttft, tpot, itl, e2e []float64
	outTokens, inTokens, cached, good := 0, 0, 0, 0
	for i := range recs {
		rec := &recs[i]
		if !rec.ok() {
			key := rec.Err
			if rec.Status != 0 && rec.Status != 200 {
				key = "status " + strconv.Itoa(rec.Status)
			}
			if key == "" {
				key = "no content"
			}
			res.Errors[key]++
			if rec.Status == http.StatusTooManyRequests {
				res.Shed++
			}
			continue
		}
		res.Completed++
		res.PerReplica[rec.Replica]++
		outTokens += rec.OutputTokens
		inTokens += rec.PromptTokens
		cached += rec.CachedTokens
		t := ms(rec.TTFT) * scale
		ttft = append(ttft, t)
		e2e = append(e2e, ms(rec.E2E)*scale)
		tp := 0.0
		if rec.OutputTokens > 1 {
			tp = ms(rec.E2E-rec.TTFT) * scale / float64(rec.OutputTokens-1)
			tpot = append(tpot, tp)
		}
		for _, g := range rec.ITL {
			itl = append(itl, ms(g)*scale)
		}
		if t <= ms(spec.slo.TTFT.Duration) && tp <= ms(spec.slo.TPOT.Duration) {
			good++
		}
	}
	if d := res.DurationSeconds; d > 0 {
		res.RequestsPerSecond = float64(res.Completed) / d
		res.OutputTokensPerSec = float64(outTokens) / d
		res.InputTokensPerSec = float64(inTokens) / d
		res.Goodput = float64(good) / d
	}
	if res.Requests > 0 {
		res.GoodputFraction = float64(good) / float64(res.Requests)
	}
	if inTokens > 0 {
		res.UsageCachedRate = float64(cached) / float64(inTokens)
	}
	summarizeClasses(recs, spec.reqs, scale, res)
	res.TTFT = latencyOf(ttft)
	res.TTFTSamples = slices.Clip(ttft) // sorted by latencyOf
	res.TPOT = latencyOf(tpot)
	res.ITL = latencyOf(itl)
	res.E2E = latencyOf(e2e)
	return res
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
