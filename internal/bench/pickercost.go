package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/infergate/infergate/internal/envoystandin"
)

// PickerPlane is a data plane of the picker-cost study.
type PickerPlane string

// The data planes compared: the native proxy, and Envoy's role played by
// the Go stand-in (internal/envoystandin) in front of infergate's ext_proc
// picker, plaintext or TLS (the picker's generated certificate).
const (
	PlaneProxy      PickerPlane = "proxy"
	PlaneExtProc    PickerPlane = "extproc"
	PlaneExtProcTLS PickerPlane = "extproc-tls"
)

// PickerCostOptions choose the points of [PickerCostStudy].
type PickerCostOptions struct {
	// Command runs the gateway (a child process, so its CPU is its own).
	// Required.
	Command GatewayCommand
	// Dir holds the gateway's configuration files. Required.
	Dir string
	// Planes are the data planes compared (default all three).
	Planes []PickerPlane
	// Rates are the offered request rates per second (default 100, 500).
	Rates []float64
	// BodyBytes are the request body sizes (default 1 KB and 220 KB).
	BodyBytes []int
	// Duration is how long each point offers load (default 10 s), after a
	// warm-up of 20 requests (fewer when the point has fewer).
	Duration time.Duration
	// Replicas is the number of instant-answer simulated replicas (default 4).
	Replicas int
	// OutputTokens is each streamed response's length (default 8).
	OutputTokens int
	// Logger receives the stand-in's logs; nil discards.
	Logger *slog.Logger
}

// PickerCostRow is one point: a data plane at a rate and body size.
type PickerCostRow struct {
	Plane     PickerPlane
	Rate      float64
	BodyBytes int
	// Requests were sent; Errors did not end with a 200 and a full body.
	Requests, Errors int
	// Achieved is the completed requests per second.
	Achieved float64
	// E2EP50 and E2EP99 are the client's request-to-last-byte latencies.
	E2EP50, E2EP99 time.Duration
	// RoundTripP50 and RoundTripP99 (ext_proc only): the data plane's
	// decision round trip, last request-body message sent to the picker →
	// its header response received, at the stand-in (two gRPC hops and
	// both processes' scheduling included).
	RoundTripP50, RoundTripP99 time.Duration
	// Picker (ext_proc only) is the decision latency where the issue
	// defines it, in the picker: last request message received → header
	// response handed to gRPC, from the gateway's
	// infergate_extproc_decision_duration_seconds over the measured window.
	Picker PickerDecisions
	// ChunkDelayP50 is the median over requests of the mean time a
	// streamed response chunk spends in the picker's response path;
	// ChunkDelayP99 the 99th percentile over requests of the largest
	// (ext_proc only).
	ChunkDelayP50, ChunkDelayP99 time.Duration
	// CPUPerRequest is the gateway process's CPU time (user + system) per
	// request, warm-up excluded, net of its idle CPU (scrapes, timers)
	// measured just before.
	CPUPerRequest time.Duration
}

// maxOutstanding caps the requests in flight of one point, so an
// overloaded data plane slows the offered load instead of piling up.
const maxOutstanding = 512

// PickerCostStudy measures the picker's cost: for every data plane, the
// same instant-answer replicas behind a gateway process, an open-loop load
// at each rate and body size, streamed chat completions.
func PickerCostStudy(ctx context.Context, o PickerCostOptions) ([]PickerCostRow, error) {
	if o.Command == nil || o.Dir == "" {
		return nil, errors.New("picker cost: Command and Dir are required")
	}
	if len(o.Planes) == 0 {
		o.Planes = []PickerPlane{PlaneProxy, PlaneExtProc, PlaneExtProcTLS}
	}
	if len(o.Rates) == 0 {
		o.Rates = []float64{100, 500}
	}
	if len(o.BodyBytes) == 0 {
		o.BodyBytes = []int{1 << 10, 220_000}
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Replicas <= 0 {
		o.Replicas = 4
	}
	if o.OutputTokens <= 0 {
		o.OutputTokens = 8
	}
	fl, err := startFleet(Fleet{Replicas: o.Replicas, Profile: ProfileInstant}, 1, 1)
	if err != nil {
		return nil, err
	}
	defer fl.stop()
	var rows []PickerCostRow
	for _, plane := range o.Planes {
		pr, err := runPlane(ctx, o, fl.addrs, plane)
		rows = append(rows, pr...)
		if err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// pickerTarget is a started data plane: where clients send requests, the
// gateway process and, for ext_proc, the stand-in and its results.
type pickerTarget struct {
	url     string
	gw      *processGateway
	standIn *envoystandin.StandIn

	mu      sync.Mutex
	results []envoystandin.Result
}

// takeResults returns and clears the stand-in's results.
func (t *pickerTarget) takeResults() []envoystandin.Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.results
	t.results = nil
	return r
}

// runPlane starts one data plane and measures every rate and body size on
// it.
func runPlane(ctx context.Context, o PickerCostOptions, addrs []string, plane PickerPlane) (_ []PickerCostRow, err error) {
	t, err := startPickerTarget(o, addrs, plane)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", plane, err)
	}
	defer func() {
		if t.standIn != nil {
			err = errors.Join(err, t.standIn.Close())
		}
		err = errors.Join(err, t.gw.stop())
	}()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: maxOutstanding, MaxConnsPerHost: maxOutstanding}}
	defer hc.CloseIdleConnections()
	var rows []PickerCostRow
	for _, size := range o.BodyBytes {
		body := pickerBody(size, o.OutputTokens)
		for _, rate := range o.Rates {
			row, err := measurePoint(ctx, hc, t, body, rate, o.Duration)
			row.Plane, row.Rate, row.BodyBytes = plane, rate, size
			rows = append(rows, row)
			if err != nil {
				return rows, err
			}
		}
	}
	return rows, nil
}

// startPickerTarget starts the gateway process (and the stand-in for the
// ext_proc planes).
func startPickerTarget(o PickerCostOptions, addrs []string, plane PickerPlane) (*pickerTarget, error) {
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	metricsListen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg, err := gatewayConfig(addrs, "default", 1, listen, metricsListen, nil)
	if err != nil {
		return nil, err
	}
	t := &pickerTarget{}
	if plane != PlaneProxy {
		if cfg.ExtProc.Listen, err = freeAddr(); err != nil {
			return nil, err
		}
		cfg.ExtProc.Plaintext = plane == PlaneExtProc
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("gateway config: %w", err)
		}
	}
	if t.gw, err = startProcessGatewayConfig(o.Command, o.Dir, cfg, -1); err != nil {
		return nil, err
	}
	t.url = t.gw.url()
	if plane == PlaneProxy {
		return t, nil
	}
	t.standIn, err = envoystandin.New(envoystandin.Config{
		ExtProcAddr:        cfg.ExtProc.Listen,
		Plaintext:          plane == PlaneExtProc,
		InsecureSkipVerify: plane == PlaneExtProcTLS, // the picker's generated certificate, as upstream's manifests
		MessageTimeout:     -1,                       // real Envoy in FULL_DUPLEX_STREAMED: no per-message timer
		Logger:             o.Logger,
		OnResult: func(r envoystandin.Result) {
			t.mu.Lock()
			t.results = append(t.results, r)
			t.mu.Unlock()
		},
	})
	if err != nil {
		return nil, errors.Join(err, t.gw.stop())
	}
	t.url = t.standIn.URL()
	return t, nil
}

// pickerBody is a streamed chat completion of about size bytes.
func pickerBody(size, outputTokens int) []byte {
	words := max(size-160, 4) / bytesPerToken
	return chatBody(BaseModel, outputTokens, message{"user", appendWords(nil, rand.New(rand.NewPCG(1, uint64(size))), words)})
}

// measurePoint warms the data plane up, then offers rate requests per
// second for d and summarizes the point.
func measurePoint(ctx context.Context, hc *http.Client, t *pickerTarget, body []byte, rate float64, d time.Duration) (PickerCostRow, error) {
	var row PickerCostRow
	idle, err := idleCPURate(ctx, t.gw, min(d, 2*time.Second))
	if err != nil {
		return row, err
	}
	for range min(20, max(int(rate*d.Seconds()), 1)) {
		if _, err := pickerRequest(ctx, hc, t.url, body); err != nil {
			return row, fmt.Errorf("warm-up (%d B): %w", len(body), err)
		}
	}
	t.takeResults()
	var decBefore histogram
	if t.standIn != nil {
		if decBefore, err = scrapeDecisionHistogram(ctx, hc, t.gw.metricsURL()); err != nil {
			return row, err
		}
	}
	before, _, err := t.gw.usage()
	if err != nil {
		return row, err
	}
	n := max(int(rate*d.Seconds()), 1)
	lat := make([]time.Duration, 0, n)
	var mu sync.Mutex
	sem := make(chan struct{}, maxOutstanding)
	var wg sync.WaitGroup
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := range n {
		at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if w := time.Until(at); w > 0 {
			timer.Reset(w)
			select {
			case <-ctx.Done():
				wg.Wait()
				return row, ctx.Err()
			case <-timer.C:
			}
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			e2e, err := pickerRequest(ctx, hc, t.url, body)
			mu.Lock()
			defer mu.Unlock()
			row.Requests++
			if err != nil {
				row.Errors++
				return
			}
			lat = append(lat, e2e)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	after, _, err := t.gw.usage()
	if err != nil {
		return row, err
	}
	row.Achieved = float64(len(lat)) / elapsed.Seconds()
	row.E2EP50, row.E2EP99 = quantile(lat, 0.5), quantile(lat, 0.99)
	busy := after.CPU - before.CPU - time.Duration(idle*float64(elapsed))
	row.CPUPerRequest = max(busy, 0) / time.Duration(max(row.Requests, 1))
	if t.standIn != nil {
		decAfter, err := scrapeDecisionHistogram(ctx, hc, t.gw.metricsURL())
		if err != nil {
			return row, err
		}
		row.Picker = decisionsOf(histogramDelta(decAfter, decBefore))
		var dec, mean, peak []time.Duration
		for _, r := range t.takeResults() {
			if r.DecisionLatency > 0 {
				dec = append(dec, r.DecisionLatency)
			}
			if r.ResponseChunks > 0 {
				mean = append(mean, r.ResponseChunkDelay/time.Duration(r.ResponseChunks))
				peak = append(peak, r.ResponseChunkDelayMax)
			}
		}
		row.RoundTripP50, row.RoundTripP99 = quantile(dec, 0.5), quantile(dec, 0.99)
		row.ChunkDelayP50, row.ChunkDelayP99 = quantile(mean, 0.5), quantile(peak, 0.99)
	}
	return row, nil
}

// pickerRequest sends one request and reads the whole streamed answer; the
// latency is send → last byte.
func pickerRequest(ctx context.Context, hc *http.Client, url string, body []byte) (time.Duration, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("content-type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return time.Since(start), nil
}

// quantile returns the q-quantile of ds (nearest rank), 0 when empty; ds is
// sorted in place.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := min(int(q*float64(len(ds))), len(ds)-1)
	return ds[i]
}

// idleCPURate measures the gateway's CPU use without requests over w, as
// CPU seconds per second.
func idleCPURate(ctx context.Context, gw *processGateway, w time.Duration) (float64, error) {
	before, _, err := gw.usage()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	timer := time.NewTimer(w)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-timer.C:
	}
	after, _, err := gw.usage()
	if err != nil {
		return 0, err
	}
	return float64(after.CPU-before.CPU) / float64(time.Since(start)), nil
}
