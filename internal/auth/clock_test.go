package auth

import (
	"time"

	"github.com/infergate/infergate/internal/testclock"
)

// newFakeClock returns a manually advanced clock at a fixed date.
func newFakeClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}
