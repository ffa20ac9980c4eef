// Package monitoring embeds the monitoring objects of this directory, so
// `infergate monitoring` can check and convert them without a checkout.
package monitoring

import "embed"

// Objects holds the monitoring object files: Google's ClusterPodMonitoring,
// its namespaced PodMonitoring variant and a prometheus-operator
// ServiceMonitor.
//
//go:embed clusterpodmonitoring.yaml podmonitoring.yaml servicemonitor.yaml
var Objects embed.FS

// File names in [Objects].
const (
	// ClusterPodMonitoringFile is Google's object, the default input of
	// `infergate monitoring prometheus-config`.
	ClusterPodMonitoringFile = "clusterpodmonitoring.yaml"
	// PodMonitoringFile is the namespaced GMP variant.
	PodMonitoringFile = "podmonitoring.yaml"
	// ServiceMonitorFile is the prometheus-operator variant.
	ServiceMonitorFile = "servicemonitor.yaml"
)

// Files lists every file in [Objects], in the order `infergate monitoring
// validate` checks them by default.
func Files() []string {
	return []string{ClusterPodMonitoringFile, PodMonitoringFile, ServiceMonitorFile}
}
