package scheduler

import "math/rand/v2"

// Rand is the randomness the scheduler uses to break ties. Implementations
// must be safe for concurrent use.
type Rand interface {
	// Float64 returns a number in [0,1).
	Float64() float64
}

// runtimeRand draws from math/rand/v2's top-level functions, which are
// seeded randomly at start-up, safe for concurrent use, and lock-free (each
// thread has its own ChaCha8 state).
type runtimeRand struct{}

func (runtimeRand) Float64() float64 { return rand.Float64() }
