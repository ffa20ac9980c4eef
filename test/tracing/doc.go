// Package tracing tests infergate's OpenTelemetry traces end to end: a real
// Jaeger (the all-in-one v2 binary `make jaeger` builds, with its own
// configuration on free 127.0.0.1 ports: OTLP receiver, memory storage,
// query service), real `infergate serve` (native proxy; ext_proc picker
// behind the Go Envoy stand-in), `infergate demo` and `infergate sim`
// processes exporting OTLP, and the traces read back through Jaeger's query
// API.
//
// The tests fail under CI=true when the Jaeger binary is missing (`make
// test` builds it) and are skipped otherwise.
package tracing
