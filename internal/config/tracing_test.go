package config

import (
	"errors"
	"testing"
)

func TestTracingEnabled(t *testing.T) {
	on, off := true, false
	tests := []struct {
		name    string
		enabled *bool
		env     map[string]string
		want    bool
	}{
		{name: "nothing set", want: false},
		{name: "endpoint variable", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, want: true},
		{name: "traces endpoint variable", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, want: true},
		{name: "SDK disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, want: false},
		{name: "exporter none", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, want: false},
		{name: "key on without variables", enabled: &on, want: true},
		{name: "key on wins over SDK disabled", enabled: &on, env: map[string]string{"OTEL_SDK_DISABLED": "true"}, want: true},
		{name: "key off wins over endpoint", enabled: &off, env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Tracing{Enabled: tc.enabled}.TracingEnabled(func(k string) string { return tc.env[k] })
			if got != tc.want {
				t.Errorf("TracingEnabled = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTracingValidate(t *testing.T) {
	bad := 1.5
	c := Tracing{Endpoint: "collector:4317", Protocol: "thrift", Sampler: "sometimes", SamplerRatio: &bad, UIURL: "jaeger/trace/{traceID}"}
	errs := c.validate()
	want := []string{"tracing.endpoint", "tracing.protocol", "tracing.sampler", "tracing.samplerRatio", "tracing.uiURL"}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(want))
	}
	for i, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) || fe.Field != want[i] {
			t.Errorf("error %d = %v, want one for %s", i, e, want[i])
		}
	}
	ratio := 0.01
	ok := Tracing{Endpoint: "http://127.0.0.1:4318", Protocol: TracingProtocolGRPC, Sampler: "parentbased_traceidratio", SamplerRatio: &ratio, UIURL: "http://jaeger:16686/trace/{traceID}"}
	if errs := ok.validate(); len(errs) != 0 {
		t.Errorf("valid tracing section: %v", errs)
	}
}
