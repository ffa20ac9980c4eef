package modelmetrics

import (
	"math"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// LoRA label names of vllm:lora_requests_info.
const (
	labelMaxLora         = "max_lora"
	labelRunningAdapters = "running_lora_adapters"
	labelWaitingAdapters = "waiting_lora_adapters"
)

// loraInfo reads vLLM's LoRA info gauge: the running and waiting adapter
// lists and the number of LoRA slots.
//
// vLLM sets the gauge to the wall-clock time of its last update and starts a
// new series whenever the label values change, while the old series stay
// exported with their old timestamps. The current state is therefore the
// series with the largest value, and it is taken from all series, including
// one whose lists are both empty: that series means "no adapter is active
// now", and skipping it (as the upstream endpoint picker does) would resurrect
// the adapters of an older series. NaN values sort below every number; on a
// tie the series listed first wins.
func loraInfo(mf *dto.MetricFamily) (running, waiting []string, maxLora int) {
	var best *dto.Metric
	bestV := math.Inf(-1)
	for _, m := range mf.GetMetric() {
		v := gaugeValue(m)
		if best == nil || v > bestV {
			best = m
			if !math.IsNaN(v) {
				bestV = v
			}
		}
	}
	if best == nil {
		return nil, nil, 0
	}
	return adapterList(labelValue(best, labelRunningAdapters)),
		adapterList(labelValue(best, labelWaitingAdapters)),
		labelCount(labelValue(best, labelMaxLora))
}

// adapterList splits a comma-separated adapter list, trimming spaces around
// names and dropping empty items. It returns nil for an empty list.
func adapterList(s string) []string {
	var out []string
	for name := range strings.SplitSeq(s, ",") {
		if name = strings.TrimSpace(name); name != "" {
			out = append(out, name)
		}
	}
	return out
}
