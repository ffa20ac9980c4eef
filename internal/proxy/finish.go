package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/infergate/infergate/internal/telemetry"
)

// finish runs once per inference request, after the response is done or
// failed: it frees the endpoint, records metrics and writes the access log.
func (h *Handler) finish(x *exchange) {
	x.release()
	h.budget.Release(x.held)
	x.held = 0
	end := h.now()
	if x.stalled.Load() {
		// The client stopped reading; what it was sent is moot.
		x.status, x.errorCode = statusClientClosed, codeClientClosed
	}
	if x.status == 0 {
		// The handler aborted (client gone mid-stream, or a panic).
		x.status, x.errorCode = statusClientClosed, codeClientClosed
	}
	if x.errorCode == "" {
		switch {
		case x.upstream >= 400:
			x.errorCode = codeModelServerError
		case x.bodyErr == nil:
		case x.timedOut.Load():
			x.errorCode = codeTimeout
		case errors.Is(x.bodyErr, errClosedEarly) || x.clientErr() != nil:
			x.errorCode = codeClientClosed
		default:
			x.errorCode = codeBadGateway // the replica broke off mid-response
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
		endpoint = endpointName(x)
	}
	if h.metrics != nil {
		label := model
		if label != "" && (x.dec == nil || x.dec.Pool == nil) {
			// Never routed: the name is the client's alone, keep it out of labels.
			label = telemetry.UnknownModelName
		}
		o := telemetry.RequestObservation{
			Model:         label,
			TargetModel:   target,
			Priority:      priority,
			ErrorCode:     x.errorCode,
			Duration:      end.Sub(x.start),
			RequestBytes:  len(x.body),
			ResponseBytes: x.respBytes,
			TTFT:          ttft,
			TPOT:          tpot,
		}
		if x.usageOK {
			o.InputTokens, o.OutputTokens, o.CachedTokens = x.usage.PromptTokens, x.usage.CompletionTokens, x.usage.CachedTokens
		}
		h.metrics.ObserveRequest(o)
	}
	level := slog.LevelInfo
	if x.status >= 500 {
		level = slog.LevelWarn
	}
	// Never log prompts or credentials: only routing facts and sizes.
	h.log.LogAttrs(context.Background(), level, "request",
		slog.String("request_id", x.id),
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
		slog.Int("request_bytes", len(x.body)),
		slog.Int("response_bytes", x.respBytes),
	)
}

func endpointName(x *exchange) string {
	if x.dec == nil || x.dec.Endpoint == nil {
		return ""
	}
	return x.dec.Endpoint.Name()
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
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
