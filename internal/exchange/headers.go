package exchange

// Control headers clients (or a proxy in front) may send to steer routing.
// Each value is read from llm-d's spelling first, then the older
// x-gateway-* one.
const (
	// HeaderObjective names the InferenceObjective (priority) of a request.
	HeaderObjective = "x-llm-d-inference-objective"
	// HeaderObjectiveLegacy is the Gateway API Inference Extension spelling
	// of [HeaderObjective].
	HeaderObjectiveLegacy = "x-gateway-inference-objective"
	// HeaderModelRewrite overrides the model name sent to the replica.
	HeaderModelRewrite = "x-llm-d-model-name-rewrite"
	// HeaderModelRewriteLegacy is the older spelling of [HeaderModelRewrite].
	HeaderModelRewriteLegacy = "x-gateway-model-name-rewrite"
	// HeaderFairnessID names the flow (tenant) of a request for fairness.
	HeaderFairnessID = "x-llm-d-inference-fairness-id"
	// HeaderFairnessIDLegacy is the older spelling of [HeaderFairnessID].
	HeaderFairnessIDLegacy = "x-gateway-inference-fairness-id"
	// HeaderSLOTTFT and HeaderSLOTPOT carry a client's latency objectives
	// (llm-d's spelling); infergate does not act on them but treats them as
	// control headers.
	HeaderSLOTTFT = "x-llm-d-slo-ttft-ms"
	// HeaderSLOTPOT: see [HeaderSLOTTFT].
	HeaderSLOTPOT = "x-llm-d-slo-tpot-ms"
	// HeaderSLOTTFTLegacy is the older spelling of [HeaderSLOTTFT].
	HeaderSLOTTFTLegacy = "x-slo-ttft-ms"
	// HeaderSLOTPOTLegacy is the older spelling of [HeaderSLOTPOT].
	HeaderSLOTPOTLegacy = "x-slo-tpot-ms"
	// HeaderEndpointSelection is the conformance tests' endpoint-selection
	// header; a control header like the others.
	HeaderEndpointSelection = "test-epp-endpoint-selection"
	// HeaderConformanceServed is the response header in which a picker in
	// conformance mode reports the endpoint the data plane says served the
	// request (GIE conformance suite).
	HeaderConformanceServed = "x-conformance-test-served-endpoint"
	// HeaderConformanceSelected is the response header in which a picker in
	// conformance mode reports the endpoint it selected.
	HeaderConformanceSelected = "x-conformance-test-selected-endpoint"
	// HeaderConformancePool is the response header in which a picker in
	// conformance mode reports its pool as namespace/name.
	HeaderConformancePool = "x-conformance-test-epp-pool"
	// HeaderRequestID is propagated, or generated when absent or unsafe.
	HeaderRequestID = "x-request-id"
)

// HeaderQueueWait is set on the response of a request that waited in flow
// control: the wait in whole milliseconds.
const HeaderQueueWait = "x-infergate-queue-wait-ms"

// HeaderDroppedReason names, on every admission rejection, why the gateway
// refused the request (llm-d's header; see the README's admission table).
const HeaderDroppedReason = "x-llm-d-request-dropped-reason"

// Values of [HeaderDroppedReason].
const (
	// DroppedSaturated: shed under saturation, the in-flight cap or the
	// request-body budget.
	DroppedSaturated = "rejected-saturated"
	// DroppedNoEndpoints: no ready endpoint could take the request.
	DroppedNoEndpoints = "rejected-no-endpoints"
	// DroppedShuttingDown: the gateway is draining.
	DroppedShuttingDown = "rejected-shutting-down"
	// DroppedTTLExpired: the request waited in flow control past its TTL.
	DroppedTTLExpired = "rejected-ttl-expired"
	// DroppedContextCancelled: the client went away while its request was
	// queued (logged and counted; nobody is answered).
	DroppedContextCancelled = "rejected-context-cancelled"
)
