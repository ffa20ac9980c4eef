// Package monitoring reads the Kubernetes objects that tell a Prometheus
// how to scrape the gateway — Google Cloud Managed Service for Prometheus'
// PodMonitoring and ClusterPodMonitoring (monitoring.googleapis.com/v1) and
// prometheus-operator's ServiceMonitor (monitoring.coreos.com/v1) — checks
// them, and renders the GMP ones as a plain Prometheus scrape configuration.
//
// # Reading
//
// [Parse] reads multi-document YAML into [Object] values with minimal Go
// types of our own for the specs (GMP's Go module is not published). Unknown
// fields of GMP objects and values of the wrong type are kept as problems
// rather than errors, because the API server prunes unknown fields (kubectl
// at most warns): a mis-indented authorization block is the classic way to
// end up scraping with no token.
//
// # Checking
//
// [Validate] applies Managed Prometheus' admission and rendering rules
// (timeout no longer than interval, at most 10 endpoints and 250
// metricRelabeling rules, no labelmap, no rule that writes or drops a
// protected label, well-formed secret references with a namespace only in
// a ClusterPodMonitoring, distinct ports per object, allowed targetLabels)
// and flags what passes those checks but scrapes nothing useful: an empty
// selector, a numeric or impossible port name, authorization without
// credentials. Each [Problem] names the field and explains the consequence.
//
// # Rendering
//
// [PrometheusConfig] writes one scrape_configs entry per endpoint with
// kubernetes_sd pod discovery and the relabeling GMP's operator generates, so
// a self-run Prometheus sees the same job, instance, namespace, pod and
// container labels as Managed Prometheus, and the dashboards and alerts in
// deploy/ work unchanged. Secret references become files under a mount
// directory ([ScrapeOptions]).
package monitoring
