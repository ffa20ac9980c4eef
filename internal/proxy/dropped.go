package proxy

import (
	"net/http"
	"strconv"
	"time"
)

// HeaderDroppedReason names, on every admission rejection, why the gateway
// refused the request (llm-d's header; see the README's admission table).
const HeaderDroppedReason = "x-llm-d-request-dropped-reason"

// Values of [HeaderDroppedReason].
const (
	// DroppedSaturated: shed under saturation, the in-flight cap or the
	// request-body budget.
	DroppedSaturated = "rejected-saturated"
	// DroppedNoEndpoints: no ready endpoint could take the request.
	DroppedNoEndpoints = "rejected-no-endpoints"
	// DroppedShuttingDown: the gateway is draining.
	DroppedShuttingDown = "rejected-shutting-down"
)

// setDropped marks an admission rejection: the reason header and a
// Retry-After of at least one second.
func setDropped(h http.Header, reason string, retryAfter time.Duration) {
	h.Set(HeaderDroppedReason, reason)
	secs := int(retryAfter.Round(time.Second) / time.Second)
	h.Set("Retry-After", strconv.Itoa(max(secs, 1)))
}
