// Package testclock is a manually advanced clock for tests of code that
// takes an injected clock (a func() time.Time). It is safe for concurrent
// use, so the code under test may read it from other goroutines.
package testclock

import (
	"sync"
	"time"
)

// Clock is a clock that moves only when told to.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock reading t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time; pass the method value as the injected clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Stepping returns a clock function that advances c by d after every
// reading, for code that must see time pass between calls.
func (c *Clock) Stepping(d time.Duration) func() time.Time {
	return func() time.Time {
		c.mu.Lock()
		defer c.mu.Unlock()
		now := c.t
		c.t = c.t.Add(d)
		return now
	}
}
