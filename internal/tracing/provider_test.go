package tracing

import (
	"testing"

	"github.com/infergate/infergate/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestNewOffStartsNothing(t *testing.T) {
	p, err := New(t.Context(), config.Tracing{}, env(nil), "svc", "scope")
	if err != nil {
		t.Fatal(err)
	}
	if p.Enabled() || p.Tracer() != nil || p.Propagator() != nil {
		t.Errorf("tracing off: Enabled %v, tracer %v, propagator %v; want off and nil", p.Enabled(), p.Tracer(), p.Propagator())
	}
	if err := p.Shutdown(t.Context()); err != nil {
		t.Errorf("Shutdown of an off provider: %v", err)
	}
}

func TestNewOnShutsDown(t *testing.T) {
	on := true
	for _, proto := range []string{config.TracingProtocolHTTP, config.TracingProtocolGRPC} {
		p, err := New(t.Context(), config.Tracing{Enabled: &on, Endpoint: "http://127.0.0.1:1", Protocol: proto}, env(nil), "svc", "scope")
		if err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		if !p.Enabled() || p.Tracer() == nil || p.Propagator() == nil {
			t.Fatalf("%s: provider not enabled", proto)
		}
		if err := p.Shutdown(t.Context()); err != nil {
			t.Errorf("%s: Shutdown with nothing to export: %v", proto, err)
		}
	}
}

func TestProtocolPrecedence(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		env  map[string]string
		want string
	}{
		{name: "default", want: config.TracingProtocolHTTP},
		{name: "general variable", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, want: "grpc"},
		{name: "traces variable wins", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, want: "http/protobuf"},
		{name: "key wins", cfg: "grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, want: "grpc"},
	}
	for _, tc := range tests {
		if got := Protocol(config.Tracing{Protocol: tc.cfg}, env(tc.env)); got != tc.want {
			t.Errorf("%s: Protocol = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSamplerPrecedence(t *testing.T) {
	half := 0.5
	tests := []struct {
		name string
		cfg  config.Tracing
		env  map[string]string
		want string
	}{
		{name: "default", want: "ParentBased{root:AlwaysOnSampler,"},
		{name: "variables", env: map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}, want: "TraceIDRatioBased{0.25}"},
		{name: "keys win", cfg: config.Tracing{Sampler: "traceidratio", SamplerRatio: &half}, env: map[string]string{"OTEL_TRACES_SAMPLER": "always_off", "OTEL_TRACES_SAMPLER_ARG": "0.25"}, want: "TraceIDRatioBased{0.5}"},
		{name: "ratio key with variable sampler", cfg: config.Tracing{SamplerRatio: &half}, env: map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio"}, want: "ParentBased{root:TraceIDRatioBased{0.5},"},
	}
	for _, tc := range tests {
		s, err := newSampler(tc.cfg, env(tc.env))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := s.Description(); len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
			t.Errorf("%s: sampler %q, want prefix %q", tc.name, got, tc.want)
		}
	}
	if _, err := newSampler(config.Tracing{}, env(map[string]string{"OTEL_TRACES_SAMPLER_ARG": "lots"})); err == nil {
		t.Error("a bad OTEL_TRACES_SAMPLER_ARG was accepted")
	}
}
