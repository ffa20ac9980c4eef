package integration

import (
	"errors"

	dto "github.com/prometheus/client_model/go"
)

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }

// histCount adds the sample counts of a histogram family's series.
func histCount(fams map[string]*dto.MetricFamily, name string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		total += float64(m.GetHistogram().GetSampleCount())
	}
	return total
}

// labelSum adds the values of a counter family's series whose label equals value.
func labelSum(fams map[string]*dto.MetricFamily, name, label, value string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label && lp.GetValue() == value {
				total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return total
}
