// Package modelmetrics scrapes model servers (vLLM, SGLang, trtllm-serve) and
// publishes what the scheduler needs on their [pool.Endpoint]s: queue
// length, running requests, KV-cache usage, LoRA adapters, KV-cache geometry
// and the served model IDs.
//
// [Parse] maps one Prometheus text exposition to [pool.Metrics]. A [Scraper]
// runs one loop per endpoint of the [pool.Store]s it is given: every
// Interval (50 ms by default) it GETs the engine's metrics path (see
// [MetricsPath]) and, every ModelsInterval, /v1/models.
//
// # Metric families
//
//	signal          vLLM                                         SGLang                          trtllm-serve
//	waiting queue   vllm:num_requests_waiting                    sglang:num_queue_reqs           trtllm_num_requests_waiting
//	running         vllm:num_requests_running                    sglang:num_running_reqs         trtllm_num_requests_running
//	KV usage 0..1   vllm:kv_cache_usage_perc, else               sglang:token_usage              trtllm_kv_cache_utilization
//	                vllm:gpu_cache_usage_perc (before vLLM 0.9.2)
//	LoRA            vllm:lora_requests_info                      -                               -
//	block size      vllm:cache_config_info{block_size}           sglang:cache_config_info        trtllm_kv_cache_tokens_per_block
//	                                                             {page_size}, else 1
//	blocks          vllm:cache_config_info{num_gpu_blocks}       sglang:cache_config_info        trtllm_kv_cache_max_blocks
//	                                                             {num_pages}, else
//	                                                             sglang:max_total_num_tokens
//	                                                             / block size
//
// The first three are required: a scrape without them fails with
// [ErrMissingFamily], because the endpoint is not running the engine we think.
// They must be typed gauge; untyped families are accepted too (some
// exporters and proxies drop TYPE lines), any other type fails the scrape.
// Optional families of a wrong type are ignored.
//
// When a family has several series (vLLM data-parallel engines carry an
// engine label, SGLang ranks a dp_rank label), counts and block counts are
// summed, KV-cache usage is averaged, and the block size is taken from the
// first series that has one. Counts are rounded and clamped to
// [0, math.MaxInt32]; a NaN or infinite required value fails the scrape.
//
// vllm:lora_requests_info carries the time of its last update as its value
// and a new series for every change of its labels. The series with the
// largest value is the current one, whatever its adapter lists hold, so an
// empty newest series clears the adapters (the upstream endpoint picker
// skips empty series instead, which keeps reporting adapters that were
// unloaded). The adapter lists are split on commas, spaces around names are
// trimmed and empty items dropped; max_lora is read with strconv.Atoi.
//
// # Parsing cost
//
// A vLLM exposition is about 60 KiB, mostly histograms the gateway does not
// read, and every endpoint is scraped 20 times a second. Parse therefore
// copies out the lines of the families it needs and hands only those to the
// expfmt text parser; an exposition using quoted (UTF-8) metric names falls
// back to a full parse. The result is the same as a full parse, but a
// syntax error in a family Parse does not read goes unnoticed.
//
// # Metrics
//
// With a Registerer in [Options], the scraper exports:
//
//	infergate_model_server_scrape_duration_seconds      histogram  metrics scrapes, failed ones included
//	infergate_model_server_scrape_errors_total          counter    failed requests; labels endpoint, source=metrics|models
//	infergate_model_server_scrape_loops                 gauge      running per-endpoint loops
//
// The endpoint label is the endpoint's name ([pool.Endpoint.Name]), or its
// address when it has none; its series
// are created when the endpoint's loop starts and deleted when it stops.
package modelmetrics
