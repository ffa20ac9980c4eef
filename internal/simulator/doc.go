// Package simulator is a vLLM-compatible model-server simulator: the OpenAI
// completion endpoints, /v1/models, /health and /metrics of one replica, over
// a discrete engine model that makes the signals a gateway routes on behave
// as they do on a GPU. It is approximate by design; it never runs a model.
//
// # Endpoints
//
// POST /v1/completions and POST /v1/chat/completions answer whole or, with
// "stream": true, as server-sent events ("data: <json>\n\n", one chunk per
// token, "data: [DONE]\n\n" last; with stream_options.include_usage one extra
// chunk with "choices": [] and the usage precedes [DONE] and every other
// chunk carries "usage": null). usage.prompt_tokens_details.cached_tokens
// is the number of prompt tokens served from the prefix cache. The request's
// model is the base model or a LoRA adapter; anything else is 404
// model_not_found, an unreadable body 400, a body over 16 MiB 413, a prompt
// plus max_tokens beyond the context length 400 context_length_exceeded.
// Errors are OpenAI-shaped: {"error":{"message","type","param","code"}}.
// The simulator supports one choice (n = 1) and one prompt per request.
// GET /v1/models lists the base model and every servable adapter (parent =
// base model). GET /health answers 200. Every response carries
// x-inference-pod: <Config.Name>.
//
// # Tokens
//
// There is no tokenizer: one token is approximately four bytes of the prompt
// stream. A completion prompt's stream is its text (token-id prompts count
// one token per id). A chat prompt's stream is, per message, a header
// "<|role|>", the text of its content and an end marker "<|eot|>" (headers
// and markers padded to four bytes: about four tokens per message), then
// the assistant header. The output is deterministic filler: every token is
// one four-byte word (a space and three letters) chosen by Config.Seed and
// the prompt, so output text is also four bytes per token.
//
// Output length is max_completion_tokens or max_tokens when given (generated
// in full, finish_reason "length", as with ignore_eos), otherwise
// Config.DefaultMaxTokens (finish_reason "stop"), capped by the context
// length.
//
// # Engine model
//
// One goroutine owned by the Server runs the engine in discrete steps, as
// vLLM's V1 scheduler does:
//
//   - Continuous batching: at most Profile.MaxNumSeqs running sequences; new
//     requests wait in a first-come-first-served queue. Each step has a
//     budget of Profile.MaxNumBatchedTokens tokens: running sequences take
//     one token each when decoding or a chunk when prefilling (chunked
//     prefill), then waiting requests are admitted while sequences, budget,
//     KV blocks and adapter slots last.
//   - KV cache: Profile.NumGPUBlocks blocks of Profile.BlockSize tokens.
//     A request holds reference-counted blocks for its prompt and generated
//     tokens.
//   - Automatic prefix caching: every full block of a request's token stream
//     has a hash chained from the previous block's hash, seeded with the
//     model and adapter name, so identical leading bytes give identical
//     leading block hashes (two chats sharing a long system prompt share
//     blocks; output blocks are cached too, so the next turn of a
//     conversation hits them). A new request takes its longest cached prefix
//     and computes only the rest (at least one token). Released blocks keep
//     their hashes and are evicted least recently used first.
//   - LoRA: Profile.MaxLoRAs adapter slots. A request's adapter must be in
//     use by the batch already, or fewer than MaxLoRAs adapters may be in use;
//     loading an adapter that is not resident costs Profile.LoRALoadTime
//     once. Requests whose adapter cannot get a slot wait (others may pass
//     them).
//   - Preemption: when a running sequence needs a block and none is free, the
//     newest running request goes back to the head of the waiting queue and
//     frees its blocks (recompute: its tokens are computed again later,
//     largely from the prefix cache).
//
// A step takes (model time)
//
//	StepTime + PrefillTokenTime·(uncached prompt tokens computed)
//	         + DecodeSeqTime·(decoding sequences)
//	         + ContextTokenTime·(tokens in their KV cache)
//	         + LoRALoadTime·(adapters loaded)
//
// and every token produced in a step is emitted when the step ends, so
// time to first token is queueing plus prefill, and inter-token latency is
// the step time, which grows with batch size and context length. Attention
// cost during prefill, speculative decoding, CUDA graph padding and
// scheduler overheads are not modelled.
//
// # Default profile
//
// [DefaultProfile] approximates meta-llama/Llama-3.1-8B-Instruct in bf16 on
// one H100 80GB SXM under vLLM with default settings:
//
//   - KV bytes per token: 2 (K and V) × 32 layers × 8 KV heads × 128 head
//     dim × 2 bytes = 128 KiB; a 16-token block is 2 MiB (model config.json).
//   - KV capacity: 0.9 (gpu_memory_utilization) × 79.6 GiB ≈ 71.6 GiB, minus
//     ≈15 GiB of weights (8.03 B parameters × 2 bytes) and ≈2–3 GiB of
//     activations and CUDA graphs, leaves ≈54 GiB ≈ 27,000 blocks
//     (≈430,000 tokens). The same arithmetic gives ≈540,000 tokens for the
//     94 GB H100 NVL, in line with KV capacities reported for that card.
//   - StepTime 6 ms: one pass reads the 16 GB of weights at the H100's
//     3.35 TB/s (≈4.8 ms) plus launch overhead; published single-stream
//     inter-token latencies of vLLM for 8B models on H100 are ≈6–7 ms.
//   - ContextTokenTime 50 ns: reading 128 KiB of keys and values per context
//     token at ≈2.6 TB/s effective bandwidth.
//   - DecodeSeqTime 30 µs: ≈16 GFLOP per token at roughly half of the H100's
//     989 dense bf16 TFLOPS. A batch of 256 sequences with 1,000 tokens of
//     context each steps in ≈6 + 7.7 + 12.8 ≈ 26 ms.
//   - PrefillTokenTime 60 µs: ≈16.7k prompt tokens/s, inside the ≈10–20k
//     tokens/s measured for 8B models on one H100.
//   - MaxNumSeqs 256 (vLLM's long-standing default; recent releases raise it
//     on large GPUs), MaxNumBatchedTokens 8192 (vLLM's API-server default for
//     chunked prefill on ≥70 GiB GPUs), BlockSize 16 (vLLM's CUDA default),
//     MaxModelLen 131072 (the model's max_position_embeddings, which vLLM
//     uses when --max-model-len is not set).
//   - MaxLoRAs 4 (vLLM's default is 1; 4 makes adapter affinity observable),
//     LoRALoadTime 20 ms: copying a rank-16 adapter on all linear layers
//     (≈84 MB) from host memory and bookkeeping.
//
// # Time
//
// Config.TimeScale divides every simulated duration before it is spent in
// wall-clock time (10 = ten times faster than real time); AddedLatency is
// scaled too. The engine keeps a model clock advanced by step durations and
// sleeps until each step's scaled deadline; when the host cannot keep up it
// runs behind rather than compressing later steps. Metrics record model time
// (unscaled seconds), so reports at different scales are comparable. A step
// costs O(batch) work and there is no goroutine per token: a handler is
// woken at most once per step and writes every token produced since.
//
// # Metrics
//
// Each Server has its own Prometheus registry. With Engine "vllm" (default)
// it exposes, with labels model_name and engine="0":
// vllm:num_requests_running, vllm:num_requests_waiting,
// vllm:kv_cache_usage_perc and vllm:gpu_cache_usage_perc (gauges 0..1);
// vllm:cache_config_info{block_size,num_gpu_blocks,…} 1;
// vllm:lora_requests_info{max_lora,running_lora_adapters,waiting_lora_adapters}
// (one series, value the unix time of the last change, adapter lists
// comma-joined without spaces; only when adapters are configured);
// counters vllm:prefix_cache_queries_total and vllm:prefix_cache_hits_total
// (tokens), vllm:prompt_tokens_total, vllm:generation_tokens_total,
// vllm:num_preemptions_total, vllm:request_success_total{finished_reason};
// histograms (vLLM's buckets) vllm:time_to_first_token_seconds,
// vllm:inter_token_latency_seconds, vllm:time_per_output_token_seconds,
// vllm:request_time_per_output_token_seconds,
// vllm:e2e_request_latency_seconds, vllm:request_queue_time_seconds,
// vllm:request_prefill_time_seconds, vllm:request_decode_time_seconds,
// vllm:request_inference_time_seconds, vllm:request_prompt_tokens and
// vllm:request_generation_tokens. Gauges are updated after every engine
// step.
//
// With Engine "sglang" it exposes SGLang's names (label model_name):
// sglang:num_queue_reqs, sglang:num_running_reqs, sglang:token_usage,
// sglang:num_used_tokens, sglang:max_total_num_tokens, sglang:cache_hit_rate
// (cumulative), counters sglang:prompt_tokens_total,
// sglang:generation_tokens_total, sglang:cached_tokens_total,
// sglang:num_requests_total, sglang:num_aborted_requests_total, histograms
// sglang:time_to_first_token_seconds, sglang:inter_token_latency_seconds,
// sglang:e2e_request_latency_seconds, and (a simulator addition)
// sglang:cache_config_info{page_size,num_pages} 1.
//
// # Faults
//
// Config.ErrorRate answers that fraction of completion requests with a 500
// (seeded); Config.AddedLatency delays each completion request before it
// reaches the engine; Config.Hang accepts completion requests and never
// answers until the client goes away (on shutdown the connection is closed);
// Config.ExitAfter closes [Server.Done] after that many completion requests
// have been answered, and [Server.Serve] then shuts down gracefully and
// returns nil (the sim command exits 0). A client that disconnects aborts
// its request, which frees its KV blocks and batch slot at the next step.
package simulator
