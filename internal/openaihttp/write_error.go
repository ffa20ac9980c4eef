package openaihttp

import (
	"net/http"
	"strconv"

	"github.com/infergate/infergate/internal/openai"
)

// WriteError writes e as the complete response: Content-Type
// application/json, e.Status, and the OpenAI error body followed by a
// newline. A nil e or a status outside 100–599 is written as a 500. Any
// headers the caller set before (such as Retry-After) are kept.
func WriteError(w http.ResponseWriter, e *openai.Error) {
	if e == nil || e.Status < 100 || e.Status > 599 {
		e = openai.ErrInternal()
	}
	body := e.AppendJSON(make([]byte, 0, 96+len(e.Message)+len(e.Type)+len(e.Param)+len(e.Code)))
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	_, _ = w.Write(body) // A failed write means the client is gone; nothing to do.
}
