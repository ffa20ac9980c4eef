// Package tracing builds the OpenTelemetry tracer provider the gateway and
// the simulator export spans with (OTLP over HTTP or gRPC, batched), from
// the tracing.* configuration and the standard OTEL_* environment variables,
// configuration winning. When tracing is off, [New] returns a Provider whose
// [Provider.Enabled] is false and callers create no spans at all, so the
// request path costs nothing. It also names the attribute keys infergate
// adds to the semantic conventions ([SemconvVersion]).
package tracing
