package bench

import "math/rand/v2"

// fixedRequests returns n chats with a prompt of f.InputTokens tokens.
func fixedRequests(f Fixed, n int, model string, rnd *rand.Rand) []Request {
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = Request{
			Body:         chatBody(model, f.OutputTokens, message{"user", appendWords(nil, rnd, f.InputTokens)}),
			Model:        model,
			Group:        -1,
			PromptTokens: f.InputTokens,
			OutputTokens: f.OutputTokens,
		}
	}
	return reqs
}
