package bench

import (
	"math"
	"math/rand/v2"
)

// shareGPTRequests returns n single-turn chats whose input and output
// lengths are log-normal around the configured medians (ShareGPT's
// conversations are long-tailed: many short turns, a few very long ones),
// clamped to [MinTokens, MaxTokens].
func shareGPTRequests(g ShareGPT, n int, model string, rnd *rand.Rand) []Request {
	draw := func(median int, sigma float64) int {
		v := float64(median) * math.Exp(sigma*rnd.NormFloat64())
		return min(max(int(v), g.MinTokens), g.MaxTokens)
	}
	reqs := make([]Request, n)
	for i := range reqs {
		in, out := draw(g.InputMedian, g.InputSigma), draw(g.OutputMedian, g.OutputSigma)
		reqs[i] = Request{
			Body:         chatBody(model, out, message{"user", appendWords(nil, rnd, in)}),
			Model:        model,
			Group:        -1,
			PromptTokens: in,
			OutputTokens: out,
		}
	}
	return reqs
}
