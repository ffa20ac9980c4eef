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
// families of /metrics under the default caps, with 10 pinned models of 3
// objectives and a hostile client that fills every client-derived slot with
// 256-byte names and every histogram with observations.
const worstCaseExpositionBytes = 256 << 20

// TestWorstCaseExpositionSize fills the default caps the worst way a client
// can and checks the exposition stays under the documented bound, however
// many more names the client then sends. It runs without -race (make allocs),
// where it takes seconds instead of minutes.
func TestWorstCaseExpositionSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a worst-case exposition of several hundred megabytes")
	}
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, Options{Now: func() time.Time { return time.Unix(0, 0) }})
	var pins []PinnedModel
	for i := range 10 {
		pins = append(pins, PinnedModel{Name: fmt.Sprintf("model-%d", i), Targets: []string{fmt.Sprintf("lora-%d", i)}})
	}
	m.PinModels(pins)
	long := func(i int) string { s := fmt.Sprintf("%d-", i); return s + strings.Repeat("x", maxLabelBytes-len(s)) }
	full := RequestObservation{Duration: time.Second, RequestBytes: 100, ResponseBytes: 100, InputTokens: 10,
		OutputTokens: 10, CachedTokens: 5, TTFT: time.Millisecond, TPOT: time.Millisecond}
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
				m.ObserveRequest(o)
			}
			for _, c := range codes {
				o.ErrorCode = c
				m.ObserveRequest(o)
			}
		}
	}
	t.Logf("10 pinned models, no client-derived names: %d bytes", exposition(t, reg).Len())

	// Then three times as many names as the caps admit, each succeeding and failing
	// at every priority.
	for i := range 3 * defaultModelPairLimit {
		o := full
		o.Model, o.TargetModel = long(i), pins[i%len(pins)].Targets[0]
		if i%2 == 1 {
			o.TargetModel = long(i + 1)
		}
		for p := range 3 {
			o.Priority = p
			m.ObserveRequest(o)
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
