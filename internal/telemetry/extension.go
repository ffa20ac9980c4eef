package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/infergate/infergate/internal/scheduler"
)

// extensionFamilies is one name set's copy of the gateway-internal
// families: scheduler, plugins, prefix index and build info
// (inference_extension_* in the GIE set, llm_d_epp_* in the llm-d set).
type extensionFamilies struct {
	info             prometheus.Gauge
	scheduleDuration prometheus.Histogram
	scheduleAttempts *prometheus.CounterVec
	pluginDuration   *prometheus.HistogramVec
	// plugins are pluginDuration's children, resolved once per plugin in
	// Options.Plugins (nil for the others) so observing allocates nothing.
	plugins        [scheduler.NumPlugins]prometheus.Observer
	prefixSize     prometheus.Gauge
	prefixHitRatio prometheus.Observer
	prefixHitBytes prometheus.Observer
	// collectors are what register adds.
	collectors []prometheus.Collector
}

// newExtensionFamilies builds the families under prefix. llmd selects
// llm-d's label keys (endpoint_name for the scheduled endpoint; the prefix
// families labelled by plugin) and HELP without deprecation markers; the
// GIE copies name their llm_d_epp_* successors.
func newExtensionFamilies(prefix string, llmd bool, plugins []scheduler.Plugin, commit, buildRef string) *extensionFamilies {
	help := func(name, text string) string {
		if llmd || name == "info" {
			return alpha(text) // upstream marks no successor for info
		}
		return alpha(deprecated(llmdPrefix+name, text))
	}
	endpointLabel := "pod_name"
	if llmd {
		endpointLabel = "endpoint_name"
	}
	f := &extensionFamilies{
		info: prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        prefix + "info",
			Help:        help("info", "Build information of the gateway; always 1."),
			ConstLabels: prometheus.Labels{"commit": orUnknown(commit), "build_ref": orUnknown(buildRef)},
		}),
		scheduleDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    prefix + "scheduler_e2e_duration_seconds",
			Help:    help("scheduler_e2e_duration_seconds", "Time the scheduler took to pick an endpoint for a request, in seconds."),
			Buckets: schedulerBuckets,
		}),
		scheduleAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prefix + "scheduler_attempts_total",
			Help: help("scheduler_attempts_total", "Scheduling attempts by outcome and chosen endpoint."),
		}, []string{"status", "target_model_name", endpointLabel, "endpoint_namespace", "port"}),
		pluginDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    prefix + "plugin_duration_seconds",
			Help:    help("plugin_duration_seconds", "Time spent in one scheduling or request-control plugin, in seconds."),
			Buckets: schedulerBuckets,
		}, []string{"extension_point", "plugin_type", "plugin_name"}),
	}
	f.info.Set(1)
	for _, p := range plugins {
		if p < scheduler.NumPlugins {
			info := p.Info()
			f.plugins[p] = f.pluginDuration.WithLabelValues(info.ExtensionPoint, info.Type, info.Name)
		}
	}
	sizeOpts := prometheus.GaugeOpts{
		Name: prefix + "prefix_indexer_size",
		Help: help("prefix_indexer_size", "Number of entries in the prefix-cache index."),
	}
	ratioOpts := prometheus.HistogramOpts{
		Name:    prefix + "prefix_indexer_hit_ratio",
		Help:    help("prefix_indexer_hit_ratio", "Fraction of a request's prefix found in the prefix-cache index, from 0 to 1."),
		Buckets: hitRatioBuckets,
	}
	bytesOpts := prometheus.HistogramOpts{
		Name:    prefix + "prefix_indexer_hit_bytes",
		Help:    help("prefix_indexer_hit_bytes", "Length of the prefix found in the prefix-cache index, in bytes."),
		Buckets: hitBytesBuckets,
	}
	var prefixCollectors []prometheus.Collector
	if llmd {
		// llm-d labels the prefix families with the plugin that owns the
		// index: here always the prefix-cache scorer.
		info := scheduler.PluginPrefixScorer.Info()
		labels := []string{"plugin_name", "plugin_type"}
		size := prometheus.NewGaugeVec(sizeOpts, labels)
		ratio := prometheus.NewHistogramVec(ratioOpts, labels)
		hitBytes := prometheus.NewHistogramVec(bytesOpts, labels)
		f.prefixSize = size.WithLabelValues(info.Name, info.Type)
		f.prefixHitRatio = ratio.WithLabelValues(info.Name, info.Type)
		f.prefixHitBytes = hitBytes.WithLabelValues(info.Name, info.Type)
		prefixCollectors = []prometheus.Collector{size, ratio, hitBytes}
	} else {
		size := prometheus.NewGauge(sizeOpts)
		ratio := prometheus.NewHistogram(ratioOpts)
		hitBytes := prometheus.NewHistogram(bytesOpts)
		f.prefixSize, f.prefixHitRatio, f.prefixHitBytes = size, ratio, hitBytes
		prefixCollectors = []prometheus.Collector{size, ratio, hitBytes}
	}
	f.collectors = append([]prometheus.Collector{f.info, f.scheduleDuration, f.scheduleAttempts, f.pluginDuration},
		prefixCollectors...)
	return f
}

// register adds every family to reg, panicking on a duplicate.
func (f *extensionFamilies) register(reg prometheus.Registerer) {
	reg.MustRegister(f.collectors...)
}
