package bench

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cespare/xxhash/v2"
)

// BaseModel is the model every simulated replica serves, and the default
// model of a suite.
const BaseModel = "meta-llama/Llama-3.1-8B-Instruct"

// Request is one request of a workload: its body and what the workload
// knows about it.
type Request struct {
	// Body is the chat-completion request body (streaming, with usage).
	Body []byte
	// Model is the body's model: the base model or an adapter.
	Model string
	// Group is the shared-prefix group, -1 for other workloads.
	Group int
	// PromptTokens is the prompt length in tokens as the simulator counts
	// content (chat-template tokens excluded).
	PromptTokens int
	// OutputTokens is max_tokens; the simulator generates exactly that many.
	OutputTokens int
	// Class, Objective, FairnessID and SLO are set by the classes
	// workload: the request's class and the control headers it is sent
	// with (see [Class]).
	Class, Objective, FairnessID string
	SLO                          time.Duration
}

// generate builds the scenario's request sequence from seed, for base
// model model (adapter names are the fleet's). The same arguments always
// give the same sequence.
func generate(w Workload, f Fleet, model string, seed int64) ([]Request, error) {
	rnd := rand.New(rand.NewPCG(uint64(seed), 0xb0a710ad))
	switch w.Type {
	case WorkloadSharedPrefix:
		return sharedPrefixRequests(w.SharedPrefix, model, rnd), nil
	case WorkloadShareGPT:
		return shareGPTRequests(w.ShareGPT, w.Requests, model, rnd), nil
	case WorkloadLoRA:
		return loraRequests(w.LoRA, w.Requests, adapterNames(f.Adapters), rnd), nil
	case WorkloadLongPrompt:
		return longPromptRequests(w.LongPrompt, w.Requests, model, rnd), nil
	case WorkloadFixed:
		return fixedRequests(w.Fixed, w.Requests, model, rnd), nil
	case WorkloadClasses:
		return classRequests(w.Classes, w.Requests, model, rnd), nil
	}
	return nil, fmt.Errorf("unknown workload %q", w.Type)
}

// adapterNames returns the fleet's adapter names.
func adapterNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("adapter-%d", i)
	}
	return out
}

// fingerprint identifies a request sequence: the hash of every body in
// order. Runs with equal fingerprints sent the same requests.
func fingerprint(reqs []Request) string {
	d := xxhash.New()
	for _, r := range reqs {
		_, _ = d.Write(r.Body)
		_, _ = d.Write([]byte{0})
	}
	return fmt.Sprintf("%016x", d.Sum64())
}
