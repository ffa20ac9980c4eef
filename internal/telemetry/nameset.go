package telemetry

import "fmt"

// Names of the name sets, as the config's metrics.nameSets lists them.
const (
	// NameSetLLMD is llm-d router v0.10's llm_d_epp_* names.
	NameSetLLMD = "llm-d"
	// NameSetGIE is Gateway API Inference Extension v1.5's
	// inference_objective_*, inference_pool_* and inference_extension_*
	// names.
	NameSetGIE = "gie"
	// NameSetLegacy is the pre-v1.1 inference_model_* names of the
	// per-objective families, which Google's Managed Prometheus guide
	// queries.
	NameSetLegacy = "legacy"
)

// NameSets selects the names the gateway's families are emitted under; each
// set is a full copy of the families it names, so each one enabled
// multiplies the samples a scrape carries. The zero value means every set,
// as upstream emits its current and deprecated names side by side.
type NameSets struct {
	// LLMD emits the llm_d_epp_* families.
	LLMD bool
	// GIE emits the inference_objective_*, inference_pool_* and
	// inference_extension_* families.
	GIE bool
	// Legacy emits the inference_model_* copies of the per-objective
	// families.
	Legacy bool
}

// AllNameSets returns every name set enabled.
func AllNameSets() NameSets { return NameSets{LLMD: true, GIE: true, Legacy: true} }

// ParseNameSets turns set names ([NameSetLLMD], [NameSetGIE],
// [NameSetLegacy]) into NameSets; an unknown name is an error. No names
// means every set.
func ParseNameSets(names []string) (NameSets, error) {
	if len(names) == 0 {
		return AllNameSets(), nil
	}
	var s NameSets
	for _, n := range names {
		switch n {
		case NameSetLLMD:
			s.LLMD = true
		case NameSetGIE:
			s.GIE = true
		case NameSetLegacy:
			s.Legacy = true
		default:
			return NameSets{}, fmt.Errorf("unknown metric name set %q (want %q, %q or %q)", n, NameSetLLMD, NameSetGIE, NameSetLegacy)
		}
	}
	return s, nil
}

// orAll returns s, or every set when s selects none.
func (s NameSets) orAll() NameSets {
	if s == (NameSets{}) {
		return AllNameSets()
	}
	return s
}

// count returns how many sets s enables.
func (s NameSets) count() int {
	n := 0
	for _, on := range []bool{s.LLMD, s.GIE, s.Legacy} {
		if on {
			n++
		}
	}
	return n
}

// DefaultModelPairLimit is the default combination cap when sets name sets
// are enabled: a budget of 2000 shared among them (2000, 1000, 666), which
// keeps the worst-case size of /metrics the same whichever sets are on.
func DefaultModelPairLimit(sets int) int {
	return comboBudget / max(sets, 1)
}
