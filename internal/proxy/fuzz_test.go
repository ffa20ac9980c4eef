package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/infergate/infergate/internal/exchange"
)

// headerSafe reports whether a real HTTP/1.1 server would accept v as a
// header value (no control bytes but tab), so in-process requests stay
// within what a client can send.
func headerSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzProxyControlHeaders sends a completion with arbitrary x-request-id,
// objective and model-rewrite headers through the gateway handler to a real
// loopback upstream. The gateway never panics; it answers 200 (the body the
// upstream got is valid JSON naming the rewrite target), an OpenAI 400
// naming a control header that is too long or not UTF-8 text, or an OpenAI
// error with 404 or 503 (no endpoint serves the rewrite target); and the
// x-request-id it returns is printable and at most 128 bytes.
func FuzzProxyControlHeaders(f *testing.F) {
	f.Add("id-1", "", "")
	f.Add("", "batch", "lora-a")
	f.Add(strings.Repeat("r", 200), "nope", `we"ird\model`)
	f.Add("é", "\t", "base")
	be := newBackend(f, okJSON)
	h := setup(f, Options{}, []string{be.addr()}, []int{0})
	f.Fuzz(func(t *testing.T, id, objective, rewrite string) {
		if !headerSafe(id) || !headerSafe(objective) || !headerSafe(rewrite) {
			return
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(`{"model":"base","prompt":"x"}`))
		req.Header.Set(exchange.HeaderRequestID, id)
		req.Header.Set(exchange.HeaderObjective, objective)
		req.Header.Set(exchange.HeaderModelRewrite, rewrite)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if got := rec.Header().Get(exchange.HeaderRequestID); got == "" || len(got) > exchange.MaxRequestIDLen || !exchange.Printable(got) {
			t.Fatalf("x-request-id %q", got)
		}
		switch rec.Code {
		case http.StatusOK:
			be.mu.Lock()
			sent := append([]byte(nil), be.last...)
			be.mu.Unlock()
			var body struct {
				Model string `json:"model"`
			}
			if err := json.Unmarshal(sent, &body); err != nil {
				t.Fatalf("the upstream got invalid JSON %q: %v", sent, err)
			}
			want := "base"
			if rewrite != "" {
				want = rewrite
			}
			if utf8.ValidString(want) && body.Model != want {
				t.Fatalf("the upstream got model %q, want %q", body.Model, want)
			}
		case http.StatusBadRequest:
			var e struct {
				Error struct{ Param string } `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || (e.Error.Param != exchange.HeaderObjective && e.Error.Param != exchange.HeaderModelRewrite) {
				t.Fatalf("400 not naming a control header: %s", rec.Body)
			}
			if utf8.ValidString(objective) && utf8.ValidString(rewrite) && !exchange.HasControlChar(objective) && !exchange.HasControlChar(rewrite) &&
				len(objective) <= exchange.MaxControlValueBytes && len(rewrite) <= exchange.MaxControlValueBytes {
				t.Fatalf("valid control headers refused: %s", rec.Body)
			}
		case http.StatusNotFound, http.StatusServiceUnavailable:
			errorCode(t, rec.Body.Bytes()) // must be an OpenAI error
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
