//go:build !race

package telemetry

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/exchange"
)

// worstCaseExpositionBytes is the bound the README states for the request
// families of /metrics under the default caps and every name set, with 10
// pinned models of 3 objectives (priorities) and a hostile client that fills
// every client-derived slot with 256-byte names and fairness IDs and every
// histogram with observations.
const worstCaseExpositionBytes = 256 << 20

// TestWorstCaseExpositionSize fills the default caps the worst way a client
// can and checks the exposition stays under the documented bound, however
// many more names the client then sends. It runs without -race (make allocs),
// where it takes seconds instead of minutes.
func TestWorstCaseExpositionSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a worst-case exposition of several hundred megabytes")
	}
	for _, sets := range []NameSets{AllNameSets(), {LLMD: true}, {GIE: true, Legacy: true}} {
		t.Run(fmt.Sprintf("%+v", sets), func(t *testing.T) { worstCase(t, sets) })
	}
}

// worstCase builds the worst-case exposition with sets enabled and checks
// it against the bound.
func worstCase(t *testing.T, sets NameSets) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, Options{NameSets: sets, Now: func() time.Time { return time.Unix(0, 0) }})
	var pins []PinnedModel
	for i := range 10 {
		pins = append(pins, PinnedModel{Name: fmt.Sprintf("model-%d", i), Targets: []string{fmt.Sprintf("lora-%d", i)}})
	}
	m.PinModels(pins)
	long := func(i int) string { s := fmt.Sprintf("%d-", i); return s + strings.Repeat("x", maxLabelBytes-len(s)) }
	full := RequestObservation{Duration: time.Second, RequestBytes: 100, ResponseBytes: 100, InputTokens: 10,
		OutputTokens: 10, CachedTokens: 5, TTFT: time.Millisecond, TPOT: time.Millisecond}
	// observe records o streamed and not (two llm-d TTFT series).
	observe := func(o RequestObservation) {
		o.Streaming = false
		m.ObserveRequest(o)
		o.Streaming = true
		m.ObserveRequest(o)
		if gap := m.StreamGaps(exchange.Running{Model: o.Model, TargetModel: o.TargetModel, FairnessID: o.FairnessID, Priority: o.Priority}); gap != nil {
			gap(time.Millisecond)
		}
	}
	codes := []string{ErrorBadRequest, ErrorNotFound, ErrorResourceExhausted, ErrorServiceUnavailable, ErrorInternal,
		ErrorModelServerError, ErrorBadGateway, ErrorTimeout, ErrorClientClosed, ErrorUnknown}
	// First the pinned models alone, every natural pair fully observed: the
	// size a gateway without client-derived names reaches.
	for _, p := range pins {
		for _, target := range []string{p.Name, p.Targets[0]} {
			o := full
			o.Model, o.TargetModel = p.Name, target
			for prio := range 3 {
				o.Priority = prio
				observe(o)
			}
			for _, c := range codes {
				o.ErrorCode = c
				m.ObserveRequest(o)
			}
		}
	}
	t.Logf("10 pinned models, no client-derived names: %d bytes", exposition(t, reg).Len())

	// Then three times as many names as the caps admit, each succeeding and failing
	// at every priority under its own long fairness ID, and every pinned
	// pair under many fairness IDs.
	for i := range 3 * DefaultModelPairLimit(sets.count()) {
		o := full
		o.Model, o.TargetModel = long(i), pins[i%len(pins)].Targets[0]
		if i%2 == 1 {
			o.TargetModel = long(i + 1)
		}
		o.FairnessID = "f" + long(i)[1:]
		if i%3 == 0 {
			o.Model = pins[i%len(pins)].Name
		}
		for _, p := range []int{i % 3} {
			o.Priority = p
			observe(o)
		}
		for _, c := range codes {
			o.ErrorCode = c
			m.ObserveRequest(o)
		}
		m.RunningAdd(exchange.Running{Model: o.Model, TargetModel: o.TargetModel, FairnessID: o.FairnessID, Priority: o.Priority}, 1)
	}
	buf := exposition(t, reg)
	t.Logf("worst-case exposition: %d bytes (%.0f MiB) in %d lines", buf.Len(), float64(buf.Len())/(1<<20), bytes.Count(buf.Bytes(), []byte("\n")))
	if buf.Len() > worstCaseExpositionBytes {
		t.Errorf("worst-case exposition is %d bytes, more than the documented %d", buf.Len(), worstCaseExpositionBytes)
	}
}
