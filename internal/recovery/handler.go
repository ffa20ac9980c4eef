package recovery

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/infergate/infergate/internal/openai"
	"github.com/infergate/infergate/internal/openaihttp"
)

// Counter counts recovered panics; the telemetry package implements it.
type Counter interface {
	// PanicRecovered counts one panic in component.
	PanicRecovered(component string)
}

// maxStackBytes bounds the stack logged with a recovered panic.
const maxStackBytes = 8 << 10

// Handler returns next wrapped so that a panic is recovered, logged at
// ERROR with component and the request's method and path (never headers or
// body), counted on c (nil counts nothing), and answered as described in the
// package documentation.
func Handler(next http.Handler, component string, c Counter, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // a deliberate abort, not a bug
			}
			stack := debug.Stack()
			if len(stack) > maxStackBytes {
				stack = stack[:maxStackBytes]
			}
			log.Error("recovered panic in request handler",
				slog.String("component", component),
				slog.String("panic", clip(fmt.Sprint(v), 512)),
				slog.String("method", r.Method),
				slog.String("path", clip(r.URL.Path, 256)),
				slog.String("stack", string(stack)))
			if c != nil {
				c.PanicRecovered(component)
			}
			if tw.started {
				panic(http.ErrAbortHandler) // too late for a status: cut the connection
			}
			openaihttp.WriteError(w, openai.ErrInternal())
		}()
		next.ServeHTTP(tw, r)
	})
}

// clip shortens s to at most n bytes for a log line.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// trackingWriter notes whether the response has started.
type trackingWriter struct {
	http.ResponseWriter
	started bool
}

// WriteHeader implements [http.ResponseWriter].
func (w *trackingWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.started = true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements [http.ResponseWriter].
func (w *trackingWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}

// Unwrap returns the wrapped writer, for [http.ResponseController] (flush,
// deadlines) and the ReverseProxy's flushing.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
