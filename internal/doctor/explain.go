package doctor

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Names from Google's Managed Prometheus guide for the Inference Gateway.
const (
	// ReaderClusterRole allows get on the non-resource URL /metrics.
	ReaderClusterRole = "inference-gateway-metrics-reader"
	// ReaderServiceAccount is the collector's identity.
	ReaderServiceAccount = "inference-gateway-sa-metrics-reader"
	// ReaderSecret holds ReaderServiceAccount's token.
	ReaderSecret = "inference-gateway-sa-metrics-reader-secret"
)

// explainStatus explains a non-200 answer: the auth check's verdict,
// detail and fix. source describes the token ("" when none was sent).
func explainStatus(s *scrape, target, source string) (Verdict, string, string) {
	path := "/metrics"
	if u, err := url.Parse(target); err == nil && u.Path != "" {
		path = u.Path
	}
	body := oneLine(string(s.body))
	said := ""
	if body != "" {
		said = fmt.Sprintf(" (server said %q)", body)
	}
	switch s.status {
	case http.StatusUnauthorized:
		if source == "" {
			return Fail, "401 Unauthorized: the endpoint needs a bearer token and none was sent",
				"pass --token-file FILE with a token from the gateway's metrics.auth.tokenFile (in a cluster: the token in secret " + ReaderSecret + ")"
		}
		what := "missing from the gateway's list or malformed"
		if strings.Contains(s.header.Get("WWW-Authenticate"), "invalid_token") {
			what = "not one the gateway accepts"
		}
		if strings.HasPrefix(source, "secret ") {
			return Fail, "401 Unauthorized: the token from " + source + " is " + what,
				"a gateway with static tokens needs this token in its metrics.auth.tokenFile; one that asks the API server (TokenReview) rejects it when its ServiceAccount was deleted or recreated: delete the secret and apply it again"
		}
		return Fail, "401 Unauthorized: the token from " + source + " is " + what,
			"put a line of the gateway's metrics.auth.tokenFile in " + strings.TrimPrefix(source, "file ") +
				" (in a cluster: the collector reads secret " + ReaderSecret + "; recreate it if its ServiceAccount was recreated)"
	case http.StatusTooManyRequests:
		wait := ""
		if ra := s.header.Get("Retry-After"); ra != "" {
			wait = " (retry after " + oneLine(ra) + " s)"
		}
		return Fail, "429 Too Many Requests: this address failed authentication too often and is throttled" + wait,
			"fix the token first (every wrong one counts against this address's budget, metrics.auth.failureLimit), then wait; a valid token is never throttled"
	case http.StatusForbidden:
		return Fail, "403 Forbidden: the token is valid but may not GET " + path + said,
			"grant it: ClusterRole " + ReaderClusterRole + " with nonResourceURLs [\"/metrics\"] verbs [\"get\"], bound by a ClusterRoleBinding to ServiceAccount " + ReaderServiceAccount
	case http.StatusInternalServerError:
		return Fail, "500: the server failed while checking the token" + said,
			"upstream endpoint pickers answer 500 for an invalid token or a failed TokenReview: check the token, and that the gateway's ServiceAccount may create tokenreviews and subjectaccessreviews; see the gateway's log"
	case http.StatusServiceUnavailable:
		return Fail, "503: the server could not verify the token or is overloaded" + said,
			"the token reviewer (Kubernetes API) may be unreachable from the gateway, or too many scrapes run at once; retry and check the gateway's log"
	case http.StatusNotFound:
		return Fail, "404: nothing is served at " + path,
			"the metrics are at /metrics on the metrics listener (default port 9090), not on the OpenAI port (8080)"
	case http.StatusMethodNotAllowed, http.StatusBadRequest:
		return Fail, fmt.Sprintf("%d %s%s", s.status, http.StatusText(s.status), said),
			"is --url the metrics endpoint (http://HOST:9090/metrics)?"
	}
	return Fail, fmt.Sprintf("unexpected %d %s%s", s.status, http.StatusText(s.status), said),
		"is --url the gateway's metrics endpoint (http://HOST:9090/metrics)?"
}
