package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/infergate/infergate/internal/config"
)

// SemconvVersion is the OpenTelemetry semantic conventions version of the
// HTTP and gen_ai.* attributes on infergate's spans.
const SemconvVersion = "1.41.0"

// Provider owns the tracer provider of a process. The zero of Enabled means
// tracing is off: Tracer returns nil and Shutdown does nothing.
type Provider struct {
	sdk    *sdktrace.TracerProvider
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// New builds the Provider for cfg: off (and nothing started) unless
// cfg.TracingEnabled(getenv); otherwise an OTLP exporter and a batching
// span processor whose background work [Provider.Shutdown] stops.
// defaultService is the service.name when neither tracing.serviceName nor
// OTEL_SERVICE_NAME set one; scope names the tracer (instrumentation scope).
func New(ctx context.Context, cfg config.Tracing, getenv func(string) string, defaultService, scope string) (*Provider, error) {
	if !cfg.TracingEnabled(getenv) {
		return &Provider{}, nil
	}
	exp, err := newExporter(ctx, cfg, getenv)
	if err != nil {
		return nil, fmt.Errorf("tracing: exporter: %w", err)
	}
	sampler, err := newSampler(cfg, getenv)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	opts := []resource.Option{resource.WithAttributes(semconv.ServiceName(defaultService)), resource.WithFromEnv(), resource.WithTelemetrySDK()}
	if cfg.ServiceName != "" {
		opts = append(opts, resource.WithAttributes(semconv.ServiceName(cfg.ServiceName)))
	}
	res, err := resource.New(ctx, opts...)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sampler),
		sdktrace.WithResource(res),
	)
	return &Provider{
		sdk:    sdk,
		tracer: sdk.Tracer(scope, trace.WithSchemaURL(semconv.SchemaURL)),
		prop:   propagation.TraceContext{},
	}, nil
}

// Enabled reports whether spans are recorded and exported.
func (p *Provider) Enabled() bool { return p != nil && p.sdk != nil }

// Tracer returns the tracer; nil when tracing is off.
func (p *Provider) Tracer() trace.Tracer {
	if !p.Enabled() {
		return nil
	}
	return p.tracer
}

// Propagator returns the W3C trace-context propagator (traceparent,
// tracestate); nil when tracing is off.
func (p *Provider) Propagator() propagation.TextMapPropagator {
	if !p.Enabled() {
		return nil
	}
	return p.prop
}

// Shutdown flushes the spans not yet exported and stops the exporter,
// within ctx.
func (p *Provider) Shutdown(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	if err := p.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// Protocol returns the OTLP protocol in force: tracing.protocol, then
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, then
// http/protobuf.
func Protocol(cfg config.Tracing, getenv func(string) string) string {
	for _, v := range []string{cfg.Protocol, getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), getenv("OTEL_EXPORTER_OTLP_PROTOCOL")} {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return config.TracingProtocolHTTP
}

// newExporter returns the OTLP exporter for the protocol in force. The
// exporters read the OTEL_EXPORTER_OTLP_* variables themselves;
// tracing.endpoint overrides the endpoint (for http/protobuf a URL without
// a path gets /v1/traces, as OTEL_EXPORTER_OTLP_ENDPOINT does).
func newExporter(ctx context.Context, cfg config.Tracing, getenv func(string) string) (sdktrace.SpanExporter, error) {
	switch proto := Protocol(cfg, getenv); proto {
	case config.TracingProtocolGRPC:
		var opts []otlptracegrpc.Option
		if cfg.Endpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
		}
		return otlptracegrpc.New(ctx, opts...)
	case config.TracingProtocolHTTP:
		var opts []otlptracehttp.Option
		if cfg.Endpoint != "" {
			u, err := url.Parse(cfg.Endpoint)
			if err != nil {
				return nil, fmt.Errorf("endpoint %q: %w", cfg.Endpoint, err)
			}
			if u.Path == "" || u.Path == "/" {
				u.Path = "/v1/traces"
			}
			opts = append(opts, otlptracehttp.WithEndpointURL(u.String()))
		}
		return otlptracehttp.New(ctx, opts...)
	default:
		return nil, fmt.Errorf("protocol %q is not %q or %q", proto, config.TracingProtocolGRPC, config.TracingProtocolHTTP)
	}
}

// newSampler returns the sampler: tracing.sampler, then
// OTEL_TRACES_SAMPLER, then parentbased_always_on; the ratio
// tracing.samplerRatio, then OTEL_TRACES_SAMPLER_ARG, then 1.
func newSampler(cfg config.Tracing, getenv func(string) string) (sdktrace.Sampler, error) {
	name := cfg.Sampler
	if name == "" {
		name = strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER"))
	}
	ratio := 1.0
	if cfg.SamplerRatio != nil {
		ratio = *cfg.SamplerRatio
	} else if arg := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER_ARG")); arg != "" {
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG %q is not a ratio in [0, 1]", arg)
		}
		ratio = r
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	default:
		return nil, fmt.Errorf("sampler %q is not supported", name)
	}
}
