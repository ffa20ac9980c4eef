//go:build tools

// Package monitoringcrds pins the prometheus-operator API types that
// hack/gen-monitoring-crds.sh generates the ServiceMonitor CRD from.
package monitoringcrds

import _ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
