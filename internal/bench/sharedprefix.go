package bench

import "math/rand/v2"

// sharedPrefixRequests returns groups × prompts-per-group chats, shuffled:
// each group has its own system prompt, each request its own question.
func sharedPrefixRequests(sp SharedPrefix, model string, rnd *rand.Rand) []Request {
	systems := make([][]byte, sp.Groups)
	for g := range systems {
		systems[g] = appendWords(nil, rnd, sp.SystemPromptTokens)
	}
	reqs := make([]Request, 0, sp.Groups*sp.PromptsPerGroup)
	for g := range sp.Groups {
		for range sp.PromptsPerGroup {
			q := appendWords(nil, rnd, sp.QuestionTokens)
			reqs = append(reqs, Request{
				Body:         chatBody(model, sp.OutputTokens, message{"system", systems[g]}, message{"user", q}),
				Model:        model,
				Group:        g,
				PromptTokens: sp.SystemPromptTokens + sp.QuestionTokens,
				OutputTokens: sp.OutputTokens,
			})
		}
	}
	rnd.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	return reqs
}

// hitCeiling is the best possible prefix-cache hit rate, per prompt token,
// of a shared-prefix workload on a fleet with blockSize-token blocks: every
// group's first request misses entirely, and every other request hits its
// group's system prompt rounded down to whole blocks and nothing else.
// promptTokens is the total number of prompt tokens the simulators counted
// (their query counter), which includes chat-template tokens.
func hitCeiling(sp SharedPrefix, blockSize int, promptTokens float64) float64 {
	if promptTokens <= 0 || blockSize <= 0 {
		return 0
	}
	shared := sp.SystemPromptTokens / blockSize * blockSize
	hits := float64(sp.Groups*(sp.PromptsPerGroup-1)) * float64(shared)
	return hits / promptTokens
}
