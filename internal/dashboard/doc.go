// Package dashboard is the gateway's built-in live dashboard, served at
// /dashboard on the metrics listener next to /metrics and behind the same
// auth.
//
// # What it shows
//
//   - Pool overview: ready endpoints, average KV-cache utilization and
//     queue (over endpoints with fresh metrics, like inference_pool_*), and
//     the gateway's in-flight requests.
//   - Endpoint table: queue, running batch, KV-cache usage, LoRA adapters
//     (loaded and waited for), in-flight requests and scrape age.
//   - Charts of request rate, error rate and latency percentiles (p50, p90,
//     p99 of successful requests) over the last five minutes.
//   - Recent routing decisions, each with every scorer's contribution
//     (weight × score) to the picked endpoint's total: why this endpoint.
//
// # Where the data comes from
//
// Only the gateway's own state, read when the page polls
// /dashboard/api/state once a second: the pool stores (internal/pool);
// [Decisions], a bounded ring the router fills through its
// router.DecisionRecorder hook (model names, endpoint and scores, never
// prompts); and [Sampler], which reads the gateway's request counters from
// its Prometheus registry once a second into a bounded ring and derives
// rates and percentiles from the differences.
//
// # Page and auth
//
// The page is plain HTML, CSS, JavaScript and inline SVG embedded in the
// binary (web/); it loads nothing from elsewhere, and its
// Content-Security-Policy forbids that too. Auth is internal/session: a
// bearer token in the Authorization header, or a login form that trades the
// token for an HttpOnly, SameSite=Strict session cookie. Unauthenticated
// requests get 401 with the login form ([LoginPage]) as body.
//
// # Tests
//
// browser_test.go drives the real page in headless Chromium (Debian's
// chromium package, installed by hack/ensure-chromium.sh from `make test`)
// against an in-process gateway and simulators on loopback, and saves a
// screenshot under test/artifacts/.
package dashboard
