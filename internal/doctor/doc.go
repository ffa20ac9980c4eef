// Package doctor diagnoses a gateway's metrics endpoint the way the
// troubleshooting section of Google's Managed Prometheus guide for the
// Inference Gateway does, and says how to fix each problem.
//
// [Run] checks, in order: that a bearer token can be read (a file, or a
// Kubernetes secret: not available outside Kubernetes mode); that the
// endpoint answers (refused, unresolvable, timed out, TLS mismatch, wrong
// path); what a 401, 403, 500 or 503 means and which file, secret or RBAC
// object to check; that the answer is Prometheus exposition with the
// metric families the dashboards and alerts query
// (inference_objective_request_total or the legacy
// inference_model_request_total, request_duration_seconds,
// inference_pool_ready_pods and the pool averages, inference_extension_info);
// that every pool has ready endpoints; and, from a second scrape, that the
// values are live.
//
// Each check ends as a [Verdict]: passed, failed, a warning (worth knowing,
// not a failure: no traffic yet, auth turned off) or skipped. [Report.Write]
// prints them as ✓, ✗, ! and – lines, each failure with a one-line fix.
// `infergate doctor` exits non-zero when any check failed.
package doctor
