// Package telemetry holds the gateway's Prometheus metrics and the mux of the
// metrics/admin listener.
//
// Collectors are built by [NewMetrics] and [NewPoolCollector] against an
// injected [prometheus.Registerer], normally the registry from
// [NewRegistry] (never the global default). [NewAdminHandler] serves it
// together with pprof and the health endpoints.
//
// # Compatibility
//
// The families are emitted under up to three name sets ([NameSets],
// config metrics.nameSets, all by default as upstream's dual emission):
// llm-d router v0.10's llm_d_epp_*, Gateway API Inference Extension v1.5's
// inference_objective_*, inference_pool_* and inference_extension_*, and the
// pre-v1.1 inference_model_* copies of the per-objective families that
// Google's Managed Prometheus guide queries. Each keeps upstream's names,
// types, label keys and bucket boundaries and the `[ALPHA] ` HELP prefix;
// the GIE families also carry upstream's `[Deprecated: Use llm_d_epp_…]`
// marker (testdata/upstream_families.txt lists upstream's facts, checked by
// a test). Deliberate differences:
//
//   - request_total counts every request, failed ones included. Upstream only
//     counts requests that were parsed and scheduled, so its documented
//     error_total / request_total ratio can exceed 1; here it cannot.
//   - scheduler_attempts_total has the label endpoint_namespace where
//     upstream has namespace. A target label called namespace collides with
//     the one the scraper attaches (Prometheus and GMP rename ours to
//     exported_namespace), so queries on exported_namespace must use
//     endpoint_namespace instead.
//   - No family carries a label named namespace, cluster, pod, job, instance,
//     location or project_id: the scraper owns those.
//   - model_name and target_model_name together take at most
//     [Options.ModelNameLimit] distinct values (default 1000) and fairness_id
//     at most [Options.FairnessIDLimit] (default 100); later new values are
//     reported as [OverflowModelName] ("other"). The (model_name,
//     target_model_name, fairness_id, priority) combinations share one
//     budget, [Options.ModelPairLimit], across every name set (see
//     [DefaultModelPairLimit]).
//   - error_code takes only the Error* constants of this package.
//   - The TTFT and TPOT histograms are fed by the proxy's own timing, not by
//     a latency-predictor plugin. llm_d_epp_request_ttft_seconds of a
//     response that is not streamed is its duration, as upstream documents.
//   - llm_d_epp_request_streaming_itl_seconds, the model-rewrite and
//     data-layer counters and the flow-control families are not emitted here.
//
// # Metrics
//
// Per objective, GIE names (labels model_name, target_model_name unless
// noted; the llm-d twin in brackets carries fairness_id and priority too):
//
//	inference_objective_request_total            counter {+priority}  [llm_d_epp_request_total]
//	inference_objective_request_error_total      counter {+error_code} [llm_d_epp_request_error_total]
//	inference_objective_running_requests         gauge {model_name}   [llm_d_epp_request_running]
//	inference_objective_request_duration_seconds histogram            [llm_d_epp_request_duration_seconds]
//	inference_objective_request_sizes            histogram            [llm_d_epp_request_size_bytes]
//	inference_objective_response_sizes           histogram            [llm_d_epp_response_size_bytes]
//	inference_objective_input_tokens             histogram            [llm_d_epp_request_input_tokens]
//	inference_objective_output_tokens            histogram            [llm_d_epp_request_output_tokens]
//	inference_objective_prompt_cached_tokens     histogram            [llm_d_epp_request_cached_tokens]
//	inference_objective_normalized_time_per_output_token_seconds      [llm_d_epp_request_ntpot_seconds]
//	inference_objective_request_ttft_seconds     histogram            [llm_d_epp_request_ttft_seconds {+streaming}]
//	inference_objective_request_tpot_seconds     histogram            [llm_d_epp_request_streaming_tpot_seconds]
//
// The legacy set emits the same twelve as inference_model_* with identical
// labels and buckets (HELP says which name replaces them). Upstream used the
// inference_model_ prefix up to v1.0.x for request_total,
// request_error_total, request_duration_seconds, request_sizes,
// response_sizes, input_tokens, output_tokens, running_requests and
// normalized_time_per_output_token_seconds; the other three never shipped
// under the old prefix and exist so the two sets stay symmetric.
//
// Per pool (constant label name=<pool name>), computed at scrape time by
// [NewPoolCollector]:
//
//	inference_pool_average_kv_cache_utilization  gauge  [llm_d_epp_average_kv_cache_utilization]
//	inference_pool_average_queue_size            gauge  [llm_d_epp_average_queue_size]
//	inference_pool_average_running_requests      gauge  [llm_d_epp_average_running_requests]
//	inference_pool_ready_pods                    gauge  [llm_d_epp_ready_endpoints]
//	inference_pool_per_pod_queue_size            gauge {name,model_server_pod} [llm_d_epp_per_endpoint_queue_size {name,model_server_endpoint}]
//	llm_d_epp_std_dev_kv_cache_utilization, llm_d_epp_std_dev_queue_size, llm_d_epp_std_dev_running_requests  gauges
//
// Gateway internals (inference_extension_* and llm_d_epp_* twins):
//
//	inference_extension_info                            gauge = 1 {commit,build_ref}
//	inference_extension_scheduler_e2e_duration_seconds  histogram, 0.0001 .. 0.1
//	inference_extension_scheduler_attempts_total        counter {status,target_model_name,pod_name,endpoint_namespace,port} (llm-d: endpoint_name)
//	inference_extension_plugin_duration_seconds         histogram {extension_point,plugin_type,plugin_name}, 0.0001 .. 0.1
//	inference_extension_prefix_indexer_size             gauge (llm-d: {plugin_name,plugin_type})
//	inference_extension_prefix_indexer_hit_ratio        histogram, 0 .. 1 by 0.1 (llm-d: {plugin_name,plugin_type})
//	inference_extension_prefix_indexer_hit_bytes        histogram, 0, 16 .. 65536 (llm-d: {plugin_name,plugin_type})
//	llm_d_epp_request_processing_duration_seconds       histogram, the gateway's own time before forwarding
//	llm_d_epp_response_processing_duration_seconds      histogram, the gateway's own time handling response chunks
//
// The ext_proc picker's decision latency ([Metrics.ObserveDecision], the
// picker's extproc.DecisionObserver; zero observations without ext_proc):
//
//	infergate_extproc_decision_duration_seconds  histogram, 25 µs .. 1 s (0.0003 and 0.002 are boundaries)
//
// Passive outlier detection ([NewOutlierMetrics], the pools' detectors'
// observer):
//
//	infergate_outlier_ejections_total     counter {pool,reason}
//	infergate_outlier_returns_total       counter {pool}
//	infergate_outlier_ejected_endpoints   gauge {pool}, computed at scrape time
//
// plugin_duration_seconds has one series per plugin the configured
// scheduler runs ([scheduler.Config.Plugins], passed as Options.Plugins):
// the Filter plugins exclusion (which also times skipping endpoints outlier
// detection ejected), scrape-failures and stale-metrics, each
// Scorer with a non-zero weight (queue, kv-cache, prefix, lora, in-flight;
// types queue-scorer, kv-cache-utilization-scorer, prefix-cache-scorer,
// lora-affinity-scorer, in-flight-scorer) and the strategy's Picker
// (max-score, round-robin, random or least-request). [Metrics] is the
// scheduler's [scheduler.PluginObserver]; every pick records each plugin
// that ran.
//
// [NewRegistry] adds the standard go_* and process_* families.
package telemetry
