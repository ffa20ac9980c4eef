package extproc

import "time"

// DecisionObserver records the picker's decision latency, as the ext_proc
// data plane waits for it: from the moment the stream received the message
// that ends the request (the request-body chunk with end_of_stream, the
// headers with end_of_stream for a request without a body, or the
// trailers) to the moment the header response carrying the decision was
// handed to gRPC (its Send returned). It includes parsing, admission (and
// flow-control queueing, in queue mode), scheduling and encoding the
// answer; not the body sent back after it. Requests answered with an
// immediate response (rejections, /v1/models, errors) are not decisions
// and are not observed; neither is conformance mode.
// telemetry.Metrics implements it
// (infergate_extproc_decision_duration_seconds).
type DecisionObserver interface {
	// ObserveDecision records one decision's latency; it is called on the
	// stream's goroutine and must not block or allocate.
	ObserveDecision(d time.Duration)
}

// requestEnded notes the time the request's last message was received,
// when decisions are observed.
func (st *stream) requestEnded() {
	if st.s.decisions != nil {
		st.endedAt = st.s.now()
	}
}

// decisionSent records the decision's latency once its header response
// was handed to gRPC.
func (st *stream) decisionSent() {
	if st.s.decisions != nil && !st.endedAt.IsZero() {
		st.s.decisions.ObserveDecision(st.s.now().Sub(st.endedAt))
	}
}
