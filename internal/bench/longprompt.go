package bench

import "math/rand/v2"

// longPromptRequests returns n chats with one user message of about
// lp.Bytes bytes, cycling through lp.Distinct different prompts (the bodies
// are shared, so a long run does not hold n copies).
func longPromptRequests(lp LongPrompt, n int, model string, rnd *rand.Rand) []Request {
	words := lp.Bytes / bytesPerToken
	distinct := make([]Request, min(lp.Distinct, n))
	for i := range distinct {
		distinct[i] = Request{
			Body:         chatBody(model, lp.OutputTokens, message{"user", appendWords(nil, rnd, words)}),
			Model:        model,
			Group:        -1,
			PromptTokens: words,
			OutputTokens: lp.OutputTokens,
		}
	}
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = distinct[i%len(distinct)]
	}
	return reqs
}
