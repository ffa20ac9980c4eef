// Package proctest runs real infergate processes for tests: it builds the
// binary once per test binary, starts `infergate sim` and `infergate serve`
// on loopback, captures their output, waits for their readiness lines and
// stops them (SIGTERM, then SIGKILL) in the test's cleanup. It also scrapes
// Prometheus expositions and polls conditions with a deadline.
//
// The integration, observability and Kubernetes test packages share it, so
// they start processes the same way.
package proctest
