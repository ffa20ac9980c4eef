// Package router turns a parsed OpenAI request into a routing decision: which
// pool, which target model, which priority, and which endpoint.
//
// It is the part both front ends share (the native HTTP proxy today, Envoy
// ext_proc later): model lookup (configured models plus the union of what the
// replicas list at /v1/models), traffic splitting over target models,
// objective (priority) lookup, admission under saturation, and the call into
// the scheduler. It knows nothing about HTTP.
//
// Errors are sentinels the edge maps to a status in one place:
// [ErrModelNotFound] (404), [admission.ErrShed] (429) and
// [scheduler.ErrNoEndpoint] (503).
package router
