package openai

import (
	"net/http"
	"testing"
)

// TestStatusesAreHTTPs keeps the package's own status codes equal to the
// standard ones, which transports write unchanged.
func TestStatusesAreHTTPs(t *testing.T) {
	for _, tc := range []struct{ ours, std int }{
		{StatusBadRequest, http.StatusBadRequest},
		{StatusNotFound, http.StatusNotFound},
		{StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge},
		{StatusTooManyRequests, http.StatusTooManyRequests},
		{StatusInternalServerError, http.StatusInternalServerError},
		{StatusBadGateway, http.StatusBadGateway},
		{StatusServiceUnavailable, http.StatusServiceUnavailable},
		{StatusGatewayTimeout, http.StatusGatewayTimeout},
	} {
		if tc.ours != tc.std {
			t.Errorf("status %d, want %d (%s)", tc.ours, tc.std, http.StatusText(tc.std))
		}
	}
}
