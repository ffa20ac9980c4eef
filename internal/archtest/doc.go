// Package archtest holds tests of the repository's architecture rules; it
// has no code of its own. The import test keeps the core packages (pool,
// scheduler, admission, router, openai, exchange) free of transports and exporters:
// they must not import, even transitively, net/http, gRPC, Kubernetes,
// Prometheus or OpenTelemetry, so that every front end (the native proxy
// today, an Envoy ext_proc picker next) can share them.
package archtest
