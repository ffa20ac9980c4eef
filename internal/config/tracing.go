package config

import (
	"net/url"
	"slices"
	"strings"
)

// Tracing protocols: OTLP over gRPC or over HTTP with protobuf bodies.
const (
	// TracingProtocolGRPC is OTLP/gRPC (default port 4317).
	TracingProtocolGRPC = "grpc"
	// TracingProtocolHTTP is OTLP/HTTP with protobuf bodies (default port
	// 4318), the SDK's default.
	TracingProtocolHTTP = "http/protobuf"
)

// tracingSamplers are the sampler names OTEL_TRACES_SAMPLER knows that the
// gateway supports.
var tracingSamplers = []string{
	"always_on", "always_off", "traceidratio",
	"parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
}

// maxServiceNameBytes bounds tracing.serviceName.
const maxServiceNameBytes = 256

// Tracing configures OpenTelemetry traces. Every field left unset falls back
// to the standard OTEL_* environment variable the OpenTelemetry SDK reads
// (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL,
// OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES); a field that is set overrides its variable.
type Tracing struct {
	// Enabled turns tracing on (true) or off (false). nil means on when
	// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
	// set, unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
	Enabled *bool `yaml:"enabled" json:"enabled"`
	// Endpoint is the OTLP collector's URL (http://host:4318 for
	// http/protobuf, http://host:4317 for grpc; https:// for TLS). Empty
	// means the environment's, then the SDK default (localhost).
	Endpoint string `yaml:"endpoint" json:"endpoint"`
	// Protocol is "grpc" or "http/protobuf". Empty means the environment's,
	// then http/protobuf.
	Protocol string `yaml:"protocol" json:"protocol"`
	// Sampler is one of always_on, always_off, traceidratio,
	// parentbased_always_on, parentbased_always_off,
	// parentbased_traceidratio. Empty means the environment's, then
	// parentbased_always_on.
	Sampler string `yaml:"sampler" json:"sampler"`
	// SamplerRatio is the ratio of the *traceidratio samplers, in [0, 1].
	// nil means OTEL_TRACES_SAMPLER_ARG, then 1.
	SamplerRatio *float64 `yaml:"samplerRatio" json:"samplerRatio"`
	// ServiceName is the service.name resource attribute. Empty means
	// OTEL_SERVICE_NAME, then "infergate".
	ServiceName string `yaml:"serviceName" json:"serviceName"`
	// UIURL is a trace UI link template; "{traceID}" is replaced by the
	// trace ID (for Jaeger: http://jaeger:16686/trace/{traceID}). The
	// dashboard links routing decisions to it. Empty shows no links.
	UIURL string `yaml:"uiURL" json:"uiURL"`
}

// TracingEnabled reports whether traces are on, given the environment
// (getenv as os.Getenv): tracing.enabled when set, otherwise whether an
// OTLP endpoint variable is set and the SDK is not disabled.
func (t Tracing) TracingEnabled(getenv func(string) string) bool {
	if t.Enabled != nil {
		return *t.Enabled
	}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")), "none") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

func (t *Tracing) validate() []error {
	var errs []error
	if t.Endpoint != "" {
		u, err := url.Parse(t.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fieldErrorf("tracing.endpoint", "%q is not an http:// or https:// URL", t.Endpoint))
		}
	}
	if t.Protocol != "" && t.Protocol != TracingProtocolGRPC && t.Protocol != TracingProtocolHTTP {
		errs = append(errs, fieldErrorf("tracing.protocol", "%q is not %q or %q", t.Protocol, TracingProtocolGRPC, TracingProtocolHTTP))
	}
	if t.Sampler != "" && !slices.Contains(tracingSamplers, t.Sampler) {
		errs = append(errs, fieldErrorf("tracing.sampler", "%q is not one of %s", t.Sampler, strings.Join(tracingSamplers, ", ")))
	}
	if t.SamplerRatio != nil && !(*t.SamplerRatio >= 0 && *t.SamplerRatio <= 1) {
		errs = append(errs, fieldErrorf("tracing.samplerRatio", "must be in [0, 1], got %v", *t.SamplerRatio))
	}
	if len(t.ServiceName) > maxServiceNameBytes {
		errs = append(errs, fieldErrorf("tracing.serviceName", "longer than %d bytes", maxServiceNameBytes))
	}
	if t.UIURL != "" {
		u, err := url.Parse(strings.ReplaceAll(t.UIURL, "{traceID}", "0"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fieldErrorf("tracing.uiURL", "%q is not an http:// or https:// URL", t.UIURL))
		}
	}
	return errs
}
