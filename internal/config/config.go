package config

import (
	"errors"
	"time"
)

// APIVersion is the only configuration apiVersion this gateway reads. An
// empty apiVersion in a file means this one.
const APIVersion = "infergate.dev/v1alpha1"

// Kind is the kind of the gateway configuration document. An empty kind in a
// file means this one.
const Kind = "GatewayConfig"

// DefaultListen is the default address of the OpenAI-compatible proxy
// listener.
const DefaultListen = ":8080"

// DefaultMetricsListen is the default address of the metrics and admin
// listener (/metrics, /debug/pprof/, /dashboard, /healthz, /readyz).
const DefaultMetricsListen = ":9090"

// Defaults of the remaining top-level settings.
const (
	defaultGracePeriod = 30 * time.Second
)

// Config is the gateway configuration file. See the package documentation
// for how it is loaded, defaulted and validated.
type Config struct {
	// APIVersion must be [APIVersion]; empty means that.
	APIVersion string `yaml:"apiVersion" json:"apiVersion"`
	// Kind must be [Kind]; empty means that.
	Kind string `yaml:"kind" json:"kind"`
	// Listen is the host:port of the OpenAI proxy listener; default
	// [DefaultListen]. Port 0 picks a free port. "off" turns the proxy off
	// (allowed when extProc.listen is set: a pure endpoint picker).
	Listen string `yaml:"listen" json:"listen"`
	// MetricsListen is the host:port of the metrics/admin listener; default
	// [DefaultMetricsListen]. Port 0 picks a free port.
	MetricsListen string `yaml:"metricsListen" json:"metricsListen"`
	// TLS turns on HTTPS on the listeners.
	TLS TLS `yaml:"tls" json:"tls"`
	// Pools are the groups of model-server endpoints; at least one is
	// required, except in Kubernetes mode.
	Pools []Pool `yaml:"pools" json:"pools"`
	// Models are the model names clients may send, and how each is routed.
	Models []Model `yaml:"models" json:"models"`
	// Objectives are the named priorities requests can run under.
	Objectives []Objective `yaml:"objectives" json:"objectives"`
	// Kubernetes turns on Kubernetes mode, where pools, models and
	// objectives come from the cluster.
	Kubernetes Kubernetes `yaml:"kubernetes" json:"kubernetes"`
	// Scheduler tunes endpoint picking.
	Scheduler Scheduler `yaml:"scheduler" json:"scheduler"`
	// Scrape tunes model-server metrics scraping.
	Scrape Scrape `yaml:"scrape" json:"scrape"`
	// Upstream tunes the connections to model servers.
	Upstream Upstream `yaml:"upstream" json:"upstream"`
	// Limits bounds what clients may send.
	Limits Limits `yaml:"limits" json:"limits"`
	// FlowControl tunes admission into saturated pools (flowcontrol.go).
	FlowControl FlowControl `yaml:"flowControl" json:"flowControl"`
	// TrustControlHeaders decides whether clients may steer routing with
	// the control headers (objective, fairness ID, model rewrite, SLOs, in
	// their x-llm-d-*, x-gateway-* and x-slo-* spellings). nil means true,
	// as upstream: set it to false when clients reach the gateway directly
	// and must not pick their own priority or target model; the headers are
	// then removed before routing. Read it with [Config.TrustsControlHeaders].
	TrustControlHeaders *bool `yaml:"trustControlHeaders" json:"trustControlHeaders"`
	// Metrics tunes the gateway's own metrics and their listener's auth.
	Metrics Metrics `yaml:"metrics" json:"metrics"`
	// Shutdown tunes graceful shutdown.
	Shutdown Shutdown `yaml:"shutdown" json:"shutdown"`
	// Tracing configures OpenTelemetry traces.
	Tracing Tracing `yaml:"tracing" json:"tracing"`
	// ExtProc turns on the Envoy ext_proc endpoint picker (off by default).
	ExtProc ExtProc `yaml:"extProc" json:"extProc"`
}

// Shutdown tunes graceful shutdown.
type Shutdown struct {
	// GracePeriod is the total time allowed for draining listeners and
	// stopping background work after the first signal. Default 30s.
	GracePeriod Duration `yaml:"gracePeriod" json:"gracePeriod"`
}

// Default returns a configuration with every default applied and no pools.
// It does not pass [Config.Validate] until the caller adds at least one pool
// (and, while metrics auth is on, a token file); call
// [Config.ApplyDefaults] again after adding pools and models.
func Default() *Config {
	c := &Config{}
	c.ApplyDefaults()
	return c
}

// ApplyDefaults fills every zero or nil field with its default. It is
// idempotent and never overwrites a value that is set, so it is safe to call
// after adding pools or models to a defaulted Config. A model without a pool
// gets the first pool, so add pools before calling it.
func (c *Config) ApplyDefaults() {
	if c.APIVersion == "" {
		c.APIVersion = APIVersion
	}
	if c.Kind == "" {
		c.Kind = Kind
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MetricsListen == "" {
		c.MetricsListen = DefaultMetricsListen
	}
	for i := range c.Pools {
		c.Pools[i].applyDefaults()
	}
	firstPool := ""
	if len(c.Pools) > 0 {
		firstPool = c.Pools[0].Name
	}
	for i := range c.Models {
		c.Models[i].applyDefaults(firstPool)
	}
	c.Kubernetes.applyDefaults()
	c.Scheduler.applyDefaults()
	c.Scrape.applyDefaults()
	c.Upstream.applyDefaults()
	c.Limits.applyDefaults()
	c.FlowControl.applyDefaults()
	c.Metrics.applyDefaults()
	if c.TrustControlHeaders == nil {
		c.TrustControlHeaders = new(true)
	}
	if c.Shutdown.GracePeriod.Duration == 0 {
		c.Shutdown.GracePeriod.Duration = defaultGracePeriod
	}
}

// TrustsControlHeaders returns TrustControlHeaders, or its default (true)
// when unset.
func (c *Config) TrustsControlHeaders() bool {
	return boolOr(c.TrustControlHeaders, true)
}

// Validate checks the whole configuration and reports every problem at
// once, joined with [errors.Join]; each is a [*FieldError] naming the field
// path. It expects [Config.ApplyDefaults] to have run: zero durations and
// thresholds are errors here. Validate does not touch the filesystem or the
// network: it checks that metrics.auth.tokenFile is set when metrics auth is
// enabled, not that the file exists (nor do the TLS files have to exist).
func (c *Config) Validate() error {
	var errs []error
	if c.APIVersion != APIVersion {
		errs = append(errs, fieldErrorf("apiVersion", "%q is not supported; want %q", c.APIVersion, APIVersion))
	}
	if c.Kind != Kind {
		errs = append(errs, fieldErrorf("kind", "%q is not supported; want %q", c.Kind, Kind))
	}
	listenErrs := validateListen("listen", c.Listen)
	if c.Listen == ListenOff {
		// A pure endpoint picker: Envoy forwards, infergate only picks.
		listenErrs = nil
		if !c.ExtProc.On() {
			errs = append(errs, fieldErrorf("listen", "can be off only when extProc.listen is set (nothing would serve requests)"))
		}
	}
	metricsListenErrs := validateListen("metricsListen", c.MetricsListen)
	errs = append(errs, listenErrs...)
	errs = append(errs, metricsListenErrs...)
	if len(listenErrs) == 0 && len(metricsListenErrs) == 0 && c.Listen == c.MetricsListen && !hasZeroPort(c.Listen) {
		errs = append(errs, fieldErrorf("metricsListen", "%q is also the listen address", c.MetricsListen))
	}
	errs = append(errs, c.TLS.validate()...)
	errs = append(errs, c.ExtProc.validate(c)...)
	errs = append(errs, c.validateListeners()...)
	if c.Kubernetes.Enabled {
		errs = append(errs, c.Kubernetes.validate(c)...)
	} else {
		errs = append(errs, validatePools(c.Pools)...)
		errs = append(errs, validateObjectives(c.Objectives)...)
		errs = append(errs, validateModels(c.Models, c.Pools, c.Objectives)...)
	}
	errs = append(errs, c.Scheduler.validate()...)
	errs = append(errs, c.Scrape.validate()...)
	errs = append(errs, c.Upstream.validate()...)
	errs = append(errs, c.Limits.validate()...)
	errs = append(errs, c.FlowControl.validate()...)
	errs = append(errs, c.Metrics.validate()...)
	errs = append(errs, positiveDuration("shutdown.gracePeriod", c.Shutdown.GracePeriod)...)
	errs = append(errs, c.Tracing.validate()...)
	return errors.Join(errs...)
}
