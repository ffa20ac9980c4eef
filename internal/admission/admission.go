// Package admission decides whether a request may enter the pool at all,
// before an endpoint is picked.
//
// The policy is upstream's legacy admission: a request is sheddable when its
// objective priority is negative, and a sheddable request is rejected with
// [ErrShed] while the pool is saturated (saturation >= 1, as computed by
// scheduler.Scheduler.Saturation). Requests with priority >= 0 are never
// shed; they queue at the model servers instead.
package admission

import (
	"errors"
	"math"
)

// ErrShed means a sheddable request was rejected because the pool is
// saturated. The edge maps it to HTTP 429.
var ErrShed = errors.New("request shed: pool saturated")

// saturated is the saturation at or above which sheddable requests are shed.
const saturated = 1.0

// Controller applies the admission policy. It holds no mutable state and is
// safe for concurrent use.
type Controller struct{}

// New returns a Controller.
func New() *Controller { return &Controller{} }

// Admit returns [ErrShed] when priority is negative (sheddable) and
// saturation is at least 1, and nil otherwise. A NaN saturation counts as
// saturated, so a broken signal errs on the side of protecting the pool.
func (c *Controller) Admit(priority int, saturation float64) error {
	if priority >= 0 {
		return nil
	}
	if saturation >= saturated || math.IsNaN(saturation) {
		return ErrShed
	}
	return nil
}
