package modelmetrics

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/infergate/infergate/internal/pool"
)

// maxCount bounds every count read from an exposition, so that scorers can do
// arithmetic on them without overflow.
const maxCount = math.MaxInt32

// metricsFrom maps parsed families to pool.Metrics for spec.
func metricsFrom(fams map[string]*dto.MetricFamily, spec *engineSpec, now time.Time) (*pool.Metrics, error) {
	m := &pool.Metrics{ScrapedAt: now}

	waiting, err := requiredSum(fams, spec.waiting)
	if err != nil {
		return nil, err
	}
	running, err := requiredSum(fams, spec.running)
	if err != nil {
		return nil, err
	}
	m.WaitingQueue, m.Running = toCount(waiting), toCount(running)

	kvName := spec.kvUsage[0]
	for _, name := range spec.kvUsage {
		if fams[name] != nil {
			kvName = name
			break
		}
	}
	kv, n, err := gaugeSum(fams, kvName)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		m.KVCacheUsage = min(max(kv/float64(n), 0), 1)
	}

	if spec.lora != "" {
		if mf := optionalGauge(fams, spec.lora); mf != nil {
			m.ActiveAdapters, m.WaitingAdapters, m.MaxAdapters = loraInfo(mf)
		}
	}
	m.BlockSize, m.NumGPUBlocks = cacheGeometry(fams, spec)
	return m, nil
}

// requiredSum returns the sum of the series of the gauge family name.
func requiredSum(fams map[string]*dto.MetricFamily, name string) (float64, error) {
	sum, _, err := gaugeSum(fams, name)
	return sum, err
}

// gaugeSum returns the sum and the number of series of the gauge family name.
// The family must exist, be typed gauge or untyped (untyped is accepted
// because some exporters omit TYPE lines) and hold only finite values.
func gaugeSum(fams map[string]*dto.MetricFamily, name string) (float64, int, error) {
	mf := fams[name]
	if mf == nil {
		return 0, 0, fmt.Errorf("read %s: %w", name, ErrMissingFamily)
	}
	if !isGauge(mf) {
		return 0, 0, fmt.Errorf("read %s: family has type %s, want gauge", name, mf.GetType())
	}
	var sum float64
	for _, m := range mf.GetMetric() {
		v := gaugeValue(m)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, 0, fmt.Errorf("read %s: non-finite value %v", name, v)
		}
		sum += v
	}
	return sum, len(mf.GetMetric()), nil
}

// optionalGauge returns the family name if it exists and is a gauge or
// untyped; a family of another type is treated as absent.
func optionalGauge(fams map[string]*dto.MetricFamily, name string) *dto.MetricFamily {
	if name == "" {
		return nil
	}
	if mf := fams[name]; mf != nil && isGauge(mf) {
		return mf
	}
	return nil
}

func isGauge(mf *dto.MetricFamily) bool {
	t := mf.GetType()
	return t == dto.MetricType_GAUGE || t == dto.MetricType_UNTYPED
}

// gaugeValue returns the value of a series of a gauge or untyped family.
func gaugeValue(m *dto.Metric) float64 {
	if g := m.GetGauge(); g != nil {
		return g.GetValue()
	}
	return m.GetUntyped().GetValue()
}

// toCount converts a finite gauge value to a count in [0, maxCount].
func toCount(v float64) int {
	switch {
	case !(v > 0): // Also NaN.
		return 0
	case v >= maxCount:
		return maxCount
	}
	return int(math.Round(v))
}

// addCount adds two counts, saturating at maxCount.
func addCount(a, b int) int {
	return min(a+b, maxCount)
}

// labelCount parses the integer label value, returning 0 for anything that is
// not a positive integer (vLLM writes "None" before the engine has sized its
// cache).
func labelCount(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return min(n, maxCount)
}

// labelValue returns the value of the label name on m, or "".
func labelValue(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// cacheGeometry returns the KV-cache block size in tokens and the capacity in
// blocks, or zeros where the exposition does not say.
//
// From an info family (vLLM cache_config_info, SGLang cache_config_info) the
// block size comes from the first series with a valid one and the block
// count is summed over the series (one per engine or rank). From plain gauges
// (trtllm-serve) the block size is the first series' value and the count is
// the sum. When no block count is known but a KV capacity in tokens is
// (SGLang max_total_num_tokens), the count is that capacity divided by the
// block size, taking the block size as 1 token when unknown: SGLang's radix
// cache is token-granular unless --page-size is raised.
func cacheGeometry(fams map[string]*dto.MetricFamily, spec *engineSpec) (blockSize, numBlocks int) {
	if mf := optionalGauge(fams, spec.cacheInfo); mf != nil {
		for _, m := range mf.GetMetric() {
			if blockSize == 0 {
				blockSize = labelCount(labelValue(m, spec.blockSizeLabel))
			}
			numBlocks = addCount(numBlocks, labelCount(labelValue(m, spec.numBlocksLabel)))
		}
	}
	if mf := optionalGauge(fams, spec.blockSize); mf != nil && blockSize == 0 {
		for _, m := range mf.GetMetric() {
			if blockSize = toCount(gaugeValue(m)); blockSize > 0 {
				break
			}
		}
	}
	if mf := optionalGauge(fams, spec.numBlocks); mf != nil && numBlocks == 0 {
		for _, m := range mf.GetMetric() {
			numBlocks = addCount(numBlocks, toCount(gaugeValue(m)))
		}
	}
	if mf := optionalGauge(fams, spec.kvTokens); mf != nil && numBlocks == 0 {
		tokens := 0
		for _, m := range mf.GetMetric() {
			tokens = addCount(tokens, toCount(gaugeValue(m)))
		}
		if tokens > 0 {
			if blockSize == 0 {
				blockSize = 1
			}
			numBlocks = tokens / blockSize
		}
	}
	return blockSize, numBlocks
}
