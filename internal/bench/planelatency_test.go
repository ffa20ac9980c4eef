package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/envoystandin"
)

// The stand-in's totals become means per decision and per response chunk;
// a stand-in that counted nothing gives none.
func TestPlaneLatency(t *testing.T) {
	t.Parallel()
	got := planeLatency(envoystandin.Stats{
		Decisions: 4, DecisionLatencyTotal: 6 * time.Millisecond,
		ResponseChunks: 10, ResponseChunkDelayTotal: 5 * time.Millisecond,
	})
	want := PlaneLatency{DecisionRoundTripMs: 1.5, Decisions: 4, ResponseChunkMs: 0.5, ResponseChunks: 10}
	if got == nil || *got != want {
		t.Errorf("planeLatency = %+v, want %+v", got, want)
	}
	if got := planeLatency(envoystandin.Stats{}); got != nil {
		t.Errorf("planeLatency of nothing = %+v, want nil", got)
	}
	if got := planeLatency(envoystandin.Stats{ResponseChunks: 2, ResponseChunkDelayTotal: time.Millisecond}); got == nil || got.DecisionRoundTripMs != 0 || got.ResponseChunkMs != 0.5 {
		t.Errorf("planeLatency without decisions = %+v, want a 0 decision mean", got)
	}
}

// Both outputs list the data-plane latency of each ext_proc arm, and
// nothing for a report without one.
func TestPlaneLatencyOutputs(t *testing.T) {
	t.Parallel()
	native := &RunResult{Strategy: "default", Point: 14}
	ext := &RunResult{Strategy: "default via ext_proc", Point: 14, PlaneLatency: &PlaneLatency{DecisionRoundTripMs: 1.234, ResponseChunkMs: 0.567}}
	rep := &Report{Scenarios: []*ScenarioResult{{Name: "shared-prefix", Kind: KindRouting, Runs: []*RunResult{native, ext}}}}
	var tb, md strings.Builder
	if err := WriteTable(&tb, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| shared-prefix | default via ext_proc | 14 | 1.234 | 0.567 |") {
		t.Errorf("markdown lacks the data-plane latency row:\n%s", md.String())
	}
	if !strings.Contains(tb.String(), "ext_proc data plane at the stand-in") || !strings.Contains(tb.String(), "1.234") {
		t.Errorf("table lacks the data-plane latency:\n%s", tb.String())
	}
	ext.PlaneLatency = nil
	tb.Reset()
	md.Reset()
	_ = WriteTable(&tb, rep)
	_ = WriteMarkdown(&md, rep)
	if strings.Contains(tb.String(), "ext_proc data plane") || strings.Contains(md.String(), "data-plane latency") {
		t.Errorf("data-plane latency shown without any:\n%s\n%s", tb.String(), md.String())
	}
}
