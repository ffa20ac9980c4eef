// Package admission decides whether and when a request may enter its pool,
// before an endpoint is picked. It imports no transport.
//
// [Queue] is a pool's flow control (queue.go): in mode queue, requests wait
// in the gateway while the pool is saturated, by priority band, fairness ID
// and deadline, bounded by band size, TTL and the shared body [Budget];
// in mode shed, sheddable requests (negative priority) are rejected with
// [ErrShed] while it is saturated; in mode off everything passes. Both
// front ends call [Queue.Enqueue] between routing and the pick.
//
// [Controller] is upstream's legacy admission, still used by
// router.Router.Route for pools without a Queue: a sheddable request is
// rejected with [ErrShed] while the pool is saturated (saturation >= 1, as
// computed by scheduler.Scheduler.Saturation); requests with priority >= 0
// are never shed.
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
