package simulator

import (
	"net/http"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/infergate/infergate/internal/tracing"
)

// SpanRequest is the name of the simulator's server span, vLLM's name for
// the span it starts per request from the incoming traceparent.
const SpanRequest = "llm_request"

// traced wraps a completion handler in a server span continuing the caller's
// trace, when the config has a tracer; otherwise it returns next unchanged.
func (s *Server) traced(next http.HandlerFunc) http.HandlerFunc {
	if s.cfg.Tracer == nil || s.cfg.Propagator == nil {
		return next
	}
	tracer, prop := s.cfg.Tracer, s.cfg.Propagator
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, SpanRequest, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				semconv.HTTPRequestMethodKey.String(r.Method),
				semconv.URLPath(r.URL.Path),
				semconv.GenAIResponseModel(s.cfg.Model),
				tracing.Replica.String(s.cfg.Name),
			))
		defer span.End()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next(rec, r.WithContext(ctx))
		span.SetAttributes(semconv.HTTPResponseStatusCode(rec.status))
		if rec.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(rec.status))
		}
	}
}

// statusRecorder remembers the status a handler wrote; it passes flushes on.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// WriteHeader records the first status.
func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

// Flush flushes the underlying writer when it can.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
