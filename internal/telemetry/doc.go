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
// The families below keep the names, types, label keys, bucket boundaries and
// `[ALPHA] ` HELP prefix of the upstream endpoint picker (Gateway API
// Inference Extension v1.5.0), so existing dashboards, alerts and Google
// Managed Prometheus scrape configurations work unchanged. Deliberate
// differences:
//
//   - request_total counts every request, failed ones included. Upstream only
//     counts requests that were parsed and scheduled, so its documented
//     error_total / request_total ratio can exceed 1; here it cannot.
//   - inference_extension_scheduler_attempts_total has the label
//     endpoint_namespace where upstream has namespace. A target label called
//     namespace collides with the one the scraper attaches (Prometheus and
//     GMP rename ours to exported_namespace), so queries on
//     exported_namespace must use endpoint_namespace instead.
//   - No family carries a label named namespace, cluster, pod, job, instance,
//     location or project_id: the scraper owns those.
//   - model_name and target_model_name together take at most
//     [Options.ModelNameLimit] distinct values (default 100); later new names
//     are reported as [OverflowModelName] ("other").
//   - error_code takes only the Error* constants of this package.
//   - The TTFT and TPOT histograms are fed by the proxy's own timing, not by
//     a latency-predictor plugin.
//
// # Metrics
//
// Per objective (labels model_name, target_model_name unless noted):
//
//	inference_objective_request_total                          counter {model_name,target_model_name,priority}
//	inference_objective_request_error_total                    counter {model_name,target_model_name,error_code}
//	inference_objective_running_requests                       gauge   {model_name}
//	inference_objective_request_duration_seconds               histogram, general latency buckets
//	inference_objective_request_sizes                          histogram, bytes, 64 B .. 1 GiB
//	inference_objective_response_sizes                         histogram, bytes, 1 .. 65536
//	inference_objective_input_tokens                           histogram, 1 .. 1048576
//	inference_objective_output_tokens                          histogram, 1 .. 8192
//	inference_objective_prompt_cached_tokens                   histogram, 1 .. 1048576
//	inference_objective_normalized_time_per_output_token_seconds histogram, 0.001 .. 10
//	inference_objective_request_ttft_seconds                   histogram, general latency buckets
//	inference_objective_request_tpot_seconds                   histogram, 0.0005 .. 360
//
// With [Options.LegacyNames] the same twelve families are also emitted as
// inference_model_* with identical labels and buckets (HELP says which name
// replaces them). Upstream used the inference_model_ prefix up to v1.0.x for
// request_total, request_error_total, request_duration_seconds,
// request_sizes, response_sizes, input_tokens, output_tokens,
// running_requests and normalized_time_per_output_token_seconds.
// prompt_cached_tokens (added in v1.2) and the TTFT/TPOT histograms never
// shipped under the old prefix; their legacy copies exist only so the two
// sets stay symmetric. The priority label of request_total is also newer
// (v1.5.0); dashboards that sum over it are unaffected.
//
// Per pool (constant label name=<pool name>), computed at scrape time by
// [NewPoolCollector]:
//
//	inference_pool_average_kv_cache_utilization  gauge
//	inference_pool_average_queue_size            gauge
//	inference_pool_average_running_requests      gauge
//	inference_pool_ready_pods                    gauge
//	inference_pool_per_pod_queue_size            gauge {name,model_server_pod}
//
// Gateway internals:
//
//	inference_extension_info                            gauge = 1 {commit,build_ref}
//	inference_extension_scheduler_e2e_duration_seconds  histogram, 0.0001 .. 0.1
//	inference_extension_scheduler_attempts_total        counter {status,target_model_name,pod_name,endpoint_namespace,port}
//	inference_extension_plugin_duration_seconds         histogram {extension_point,plugin_type,plugin_name}, 0.0001 .. 0.1
//	inference_extension_prefix_indexer_size             gauge
//	inference_extension_prefix_indexer_hit_ratio        histogram, 0 .. 1 by 0.1
//	inference_extension_prefix_indexer_hit_bytes        histogram, 0, 16 .. 65536
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
