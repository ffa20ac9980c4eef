package bench

import (
	"math"
	"math/rand/v2"
)

// loraRequests returns n chats, each for one of adapters drawn by a Zipf law
// with exponent s (adapters[0] the most popular).
func loraRequests(l LoRA, n int, adapters []string, rnd *rand.Rand) []Request {
	cdf := zipfCDF(len(adapters), l.ZipfS)
	reqs := make([]Request, n)
	for i := range reqs {
		u := rnd.Float64()
		k := 0
		for k < len(cdf)-1 && u >= cdf[k] {
			k++
		}
		reqs[i] = Request{
			Body:         chatBody(adapters[k], l.OutputTokens, message{"user", appendWords(nil, rnd, l.InputTokens)}),
			Model:        adapters[k],
			Group:        -1,
			PromptTokens: l.InputTokens,
			OutputTokens: l.OutputTokens,
		}
	}
	return reqs
}

// zipfCDF returns the cumulative probabilities of ranks 1..n under a Zipf
// law with exponent s.
func zipfCDF(n int, s float64) []float64 {
	cdf := make([]float64, n)
	sum := 0.0
	for k := range n {
		sum += 1 / math.Pow(float64(k+1), s)
		cdf[k] = sum
	}
	for k := range cdf {
		cdf[k] /= sum
	}
	return cdf
}
