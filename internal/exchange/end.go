package exchange

import (
	"context"
	"errors"
	"log/slog"
	"time"
	"unicode/utf8"
)

// Observer receives finished requests and the running-request count; the
// telemetry package implements it.
type Observer interface {
	// ObserveRequest records one finished request; it is called exactly
	// once per request, failed ones included.
	ObserveRequest(Record)
	// RunningAdd adds delta (+1 or -1) to the requests running for r's
	// model, target, fairness ID and priority; the exchange passes the same
	// r for a request's +1 and its -1.
	RunningAdd(r Running, delta int)
}

// Running identifies the series a running request is counted in.
type Running struct {
	// Model is the model the client asked for; TargetModel the one the
	// replica receives.
	Model, TargetModel string
	// FairnessID is the request's flow ([DefaultFairnessID] when it named
	// none).
	FairnessID string
	// Priority is the objective's priority.
	Priority int
}

// Record is everything known about one finished request. Zero values mean
// "unknown" and are not observed, except where noted.
type Record struct {
	// Model is the model name the client asked for; TargetModel is the one
	// the request was sent to (after any rewrite). Empty is allowed (the
	// request failed before the model was known).
	Model, TargetModel string
	// Priority is the objective's priority; it becomes the priority label of
	// request_total.
	Priority int
	// ErrorCode is "" for a successful request, otherwise one of the Error*
	// constants.
	ErrorCode string
	// Duration is from receiving the request to sending the last byte.
	Duration time.Duration
	// RequestBytes and ResponseBytes are body sizes in bytes. ResponseBytes
	// is observed even when 0 (an empty successful body).
	RequestBytes, ResponseBytes int
	// InputTokens, OutputTokens and CachedTokens come from the usage report;
	// 0 is not observed.
	InputTokens, OutputTokens, CachedTokens int
	// TTFT is the time to the first token.
	TTFT time.Duration
	// TPOT is the mean time between output tokens after the first.
	TPOT time.Duration
	// FairnessID is the request's flow as the client named it (validated,
	// not yet capped); "" when the request failed before it was read.
	FairnessID string
	// Streaming is whether the client asked for a streamed response.
	Streaming bool
	// RequestProcessing is the gateway's own time before forwarding: from
	// receiving the request until it was parsed, admitted and routed
	// (reading the body included). 0 when the request was never routed.
	RequestProcessing time.Duration
	// ResponseProcessing is the gateway's own time spent handling the
	// response body: the sum over the chunks passed to the client. 0 when
	// no response body was handled.
	ResponseProcessing time.Duration
}

// Outcome is how the transport saw a request end.
type Outcome struct {
	// TimedOut: a first-byte or idle timeout fired.
	TimedOut bool
	// Stalled: the client took no bytes for the stall timeout.
	Stalled bool
	// ClientGone: the client's request had ended (it went away).
	ClientGone bool
}

// End closes the exchange: it frees the endpoint, settles the status and
// error code, computes TTFT and TPOT, reports the [Record] to the observer
// and writes the access log. Call it exactly once, last, also when the
// front end aborts.
func (x *Exchange) End(o Outcome) {
	x.release()
	if x.running && x.t.obs != nil {
		x.t.obs.RunningAdd(x.runningKey(), -1)
	}
	end := x.t.now()
	if o.Stalled {
		// The client stopped reading; what it was sent is moot.
		x.status, x.errorCode = StatusClientClosed, ErrorClientClosed
	}
	if x.status == 0 {
		// The front end aborted (client gone mid-stream, or a panic).
		x.status, x.errorCode = StatusClientClosed, ErrorClientClosed
	}
	if x.errorCode == "" {
		switch {
		case x.upstream >= 400:
			x.errorCode = ErrorModelServerError
		case x.bodyErr == nil:
		case o.TimedOut:
			x.errorCode = ErrorTimeout
		case errors.Is(x.bodyErr, ErrClosedEarly) || o.ClientGone:
			x.errorCode = ErrorClientClosed
		default:
			x.errorCode = ErrorBadGateway // the replica broke off mid-response
		}
	}
	var ttft, tpot time.Duration
	if !x.firstToken.IsZero() {
		ttft = x.firstToken.Sub(x.start)
		gaps := x.events - 1
		if x.usageOK && x.usage.CompletionTokens > 1 {
			gaps = x.usage.CompletionTokens - 1
		}
		if gaps > 0 {
			tpot = x.lastToken.Sub(x.firstToken) / time.Duration(gaps)
		}
	}
	model, target, priority, endpoint := x.req.Model, "", 0, ""
	if x.dec != nil {
		target, priority = x.dec.TargetModel, x.dec.Priority
		endpoint = x.endpointName()
	}
	reqBytes := 0
	if x.running {
		reqBytes = x.bodyLen
	}
	if x.t.obs != nil {
		label := model
		if label != "" && (x.dec == nil || x.dec.Pool == nil) {
			// Never routed: the name is the client's alone, keep it out of labels.
			label = UnknownModelName
		}
		r := Record{
			Model:         label,
			TargetModel:   target,
			Priority:      priority,
			ErrorCode:     x.errorCode,
			Duration:      end.Sub(x.start),
			RequestBytes:  reqBytes,
			ResponseBytes: x.respBytes,
			TTFT:          ttft,
			TPOT:          tpot,
			FairnessID:    x.fairness,
			Streaming:     x.req.Stream,
		}
		if !x.routedAt.IsZero() {
			r.RequestProcessing = x.routedAt.Sub(x.start)
		}
		r.ResponseProcessing = x.respProc
		if x.usageOK {
			r.InputTokens, r.OutputTokens, r.CachedTokens = x.usage.PromptTokens, x.usage.CompletionTokens, x.usage.CachedTokens
		}
		x.t.obs.ObserveRequest(r)
	}
	level := slog.LevelInfo
	if x.status >= 500 {
		level = slog.LevelWarn
	}
	// Never log prompts or credentials: only routing facts and sizes.
	x.t.log.LogAttrs(context.Background(), level, "request",
		slog.String("request_id", x.id),
		slog.String("trace_id", x.traceID),
		slog.String("model", clip(model)),
		slog.String("target_model", clip(target)),
		slog.Int("priority", priority),
		slog.String("endpoint", endpoint),
		slog.Int("status", x.status),
		slog.String("error_code", x.errorCode),
		slog.Int("attempts", x.attempts),
		slog.Bool("stream", x.req.Stream),
		slog.Duration("duration", end.Sub(x.start)),
		slog.Duration("ttft", ttft),
		slog.Int("prompt_tokens", x.usage.PromptTokens),
		slog.Int("completion_tokens", x.usage.CompletionTokens),
		slog.Int("cached_tokens", x.usage.CachedTokens),
		slog.Int("request_bytes", reqBytes),
		slog.Int("response_bytes", x.respBytes),
	)
}

// maxLoggedValueBytes bounds a client-supplied string in a log line.
const maxLoggedValueBytes = 256

// clip shortens a client-supplied string for a log line, marking the cut.
func clip(s string) string {
	if len(s) <= maxLoggedValueBytes {
		return s
	}
	n := maxLoggedValueBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
