package proxy

import (
	"net/http"
	"strconv"
	"time"

	"github.com/infergate/infergate/internal/exchange"
)

// setDropped marks an admission rejection: the reason header (one of the
// exchange.Dropped* values) and a Retry-After of at least one second.
func setDropped(h http.Header, reason string, retryAfter time.Duration) {
	h.Set(exchange.HeaderDroppedReason, reason)
	secs := int(retryAfter.Round(time.Second) / time.Second)
	h.Set("Retry-After", strconv.Itoa(max(secs, 1)))
}
