// Package kubeauth guards the gateway's admin endpoints (/metrics,
// /debug/pprof/, /dashboard) in a Kubernetes cluster by delegating to the
// API server, as controller-runtime's metrics filter and kube-rbac-proxy do.
//
// [Delegate] implements both [auth.Authenticator] and [auth.Authorizer], so
// it plugs into [auth.Middleware]:
//
//   - Authenticate sends the bearer token in a TokenReview
//     (authentication.k8s.io/v1, with spec.audiences when configured);
//   - Authorize sends a SubjectAccessReview (authorization.k8s.io/v1) for
//     the reviewed user (spec.user, groups, uid, extra) with
//     nonResourceAttributes{path: the URL path, verb: the lower-cased
//     method}, which is what a ClusterRole rule
//     `nonResourceURLs: ["/metrics"], verbs: ["get"]` grants.
//
// The gateway's own identity needs a ClusterRole with verb create on
// tokenreviews (authentication.k8s.io) and subjectaccessreviews
// (authorization.k8s.io).
//
// # Outcomes
//
// The middleware turns them into statuses:
//
//	token not authenticated, or not for the audiences   ErrUnauthenticated  401
//	access review denies (or does not allow)            (false, nil)        403
//	API server unreachable, timed out, 5xx or 429        ErrUnavailable      503
//	anything else, e.g. the gateway may not create       plain error         500
//	tokenreviews (the message names the permission)
//
// Nothing is allowed on doubt.
//
// # Caching and load
//
// Answers are cached in memory, each cache bounded (least recently used
// evicted first) and keyed by SHA-256 digests, never by raw tokens:
// authenticated tokens for 1 min, rejected tokens for 1 min, allowing access
// reviews for 5 min, denying ones for 30 s (see [Options]). Failed reviews
// are never cached, so recovery after an API-server outage is immediate,
// and while it lasts tokens still in the cache keep working. Concurrent
// identical reviews are collapsed into one call, bounded by a 2 s timeout
// so that a slow API server costs a 5 s scrape a 503 rather than a timeout.
// A collector scraping every 5 s with one token thus costs about one
// TokenReview per minute and one SubjectAccessReview per 5 minutes.
// [Delegate.AuthenticateCached] answers from the positive cache alone; the
// middleware uses it for client addresses throttled for failing too often,
// so guessing costs no reviews past the failure budget.
//
// Tokens are never logged or kept; user names are logged at debug level
// only.
//
// # Metrics
//
// Registered on [Options].Registerer:
//
//   - infergate_auth_reviews_total{kind, result}: reviews sent to the API
//     server; kind is tokenreview or subjectaccessreview, result is
//     allowed, denied, unavailable or error (for a TokenReview, allowed
//     means authenticated and denied not authenticated);
//   - infergate_auth_review_cache_hits_total{kind, result}: answers reused
//     from the caches; result is allowed or denied;
//   - infergate_auth_review_duration_seconds{kind}: duration of review
//     calls, failures included.
package kubeauth
