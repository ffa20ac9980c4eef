// Package doctor diagnoses a gateway's metrics endpoint the way the
// troubleshooting section of Google's Managed Prometheus guide for the
// Inference Gateway does, and says how to fix each problem.
//
// # HTTP checks
//
// [Run] checks, in order: that a bearer token can be read (a file, or a
// Kubernetes secret); that the endpoint answers (refused, unresolvable,
// timed out, TLS mismatch, wrong path); what a 401, 403, 500 or 503 means
// and which file, secret or RBAC object to check; that the answer is
// Prometheus exposition with the metric families the dashboards and alerts
// query (inference_objective_request_total or the legacy
// inference_model_request_total, request_duration_seconds,
// inference_pool_ready_pods and the pool averages, inference_extension_info,
// or their llm_d_epp_* twins when the gateway emits only llm-d's names);
// that every pool has ready endpoints; and, from a second scrape, that the
// values are live.
//
// # In-cluster checks
//
// With [Options.Cluster] (or a [SecretToken]) Run first connects to the
// Kubernetes API with client-go (a kubeconfig, or the in-cluster
// configuration) and, when the token comes from a secret, checks that the
// secret exists, is of type kubernetes.io/service-account-token and holds
// the token the token controller fills in for the ServiceAccount of its
// annotation. After the HTTP checks it looks at the objects the Managed
// Prometheus chain depends on: the gateway's pods (label
// app=inference-gateway-ext-proc, Ready, a container port named metrics);
// a SubjectAccessReview that the secret's ServiceAccount may GET /metrics
// (ClusterRole inference-gateway-metrics-reader and its binding); one that
// the collector (gmp-system:collector) may read the secret (ClusterRole
// inference-gateway-sa-metrics-reader-secret-read and its binding); and a
// ClusterPodMonitoring or PodMonitoring selecting the pods. A check the
// doctor's own credentials may not make is reported as "could not check".
//
// Each check ends as a [Verdict]: passed, failed, a warning (worth knowing,
// not a failure: no traffic yet, auth turned off, could not check) or
// skipped. [Report.Write] prints them as ✓, ✗, ! and – lines, each failure
// with a one-line fix. `infergate doctor` exits non-zero when any check
// failed. The doctor never prints a token.
package doctor
