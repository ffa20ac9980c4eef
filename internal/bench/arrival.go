package bench

import (
	"math"
	"math/rand/v2"
	"time"
)

// schedule returns the model-time offsets at which n requests are sent
// under an open-loop arrival (constant, poisson or gamma); the first is 0.
// It returns nil for the closed-loop concurrency arrival.
func schedule(a Arrival, n int, seed int64) []time.Duration {
	if a.Type == ArrivalConcurrency || n == 0 {
		return nil
	}
	rnd := rand.New(rand.NewPCG(uint64(seed), 0xa4417a1))
	mean := 1 / a.Rate
	out := make([]time.Duration, n)
	t := 0.0
	for i := 1; i < n; i++ {
		switch a.Type {
		case ArrivalConstant:
			t += mean
		case ArrivalPoisson:
			t += rnd.ExpFloat64() * mean
		case ArrivalGamma:
			// Shape k, scale mean/k: the mean gap is 1/rate, the
			// coefficient of variation 1/√k.
			t += gamma(rnd, a.Burstiness) * mean / a.Burstiness
		}
		out[i] = time.Duration(t * float64(time.Second))
	}
	return out
}

// gamma draws from the gamma distribution with shape k and scale 1
// (Marsaglia and Tsang's method; shapes below 1 are boosted by U^(1/k)).
func gamma(rnd *rand.Rand, k float64) float64 {
	if k < 1 {
		return gamma(rnd, k+1) * math.Pow(rnd.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rnd.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rnd.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
