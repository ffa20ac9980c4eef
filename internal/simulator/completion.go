package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// serveCompletion returns the handler of POST /v1/completions or
// POST /v1/chat/completions.
func (s *Server) serveCompletion(ep endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer s.countAnswered()
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				writeError(w, &apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error",
					message: fmt.Sprintf("request body exceeds %d bytes", maxBodyBytes), code: "request_too_large"})
				return
			}
			writeError(w, badRequest("", "could not read the request body"))
			return
		}
		req, apiErr := parseRequest(ep, data)
		if apiErr != nil {
			writeError(w, apiErr)
			return
		}
		salt, ok := s.salts[req.model]
		if !ok {
			writeError(w, &apiError{status: http.StatusNotFound, typ: "invalid_request_error", param: "model",
				code: "model_not_found", message: fmt.Sprintf("The model `%s` does not exist.", req.model)})
			return
		}
		if s.injectError() {
			writeError(w, &apiError{status: http.StatusInternalServerError, typ: "server_error",
				code: "internal_error", message: "simulated internal server error"})
			return
		}
		if s.unavailable() {
			writeError(w, &apiError{status: http.StatusServiceUnavailable, typ: "server_error",
				code: "service_unavailable", message: "simulated unavailability burst"})
			return
		}
		if s.cfg.Hang {
			s.hang(r.Context())
			return
		}
		if !s.addLatency(r.Context()) {
			return
		}
		adapter := ""
		if req.model != s.cfg.Model {
			adapter = req.model
		}
		p := newPrompt(req.text, s.cfg.Profile.BlockSize, salt, s.cfg.Seed)
		maxTokens, reason, apiErr := s.outputLength(p.tokens, req.maxTokens)
		if apiErr != nil {
			writeError(w, apiErr)
			return
		}
		er := newRequest(adapter, p, maxTokens, reason)
		if !s.engine.submit(er) {
			writeError(w, engineStopped())
			return
		}
		out := newOutput(s, ep, &req, er)
		if req.stream {
			out.stream(w, r)
		} else {
			out.whole(w, r)
		}
		s.logger.LogAttrs(r.Context(), slog.LevelDebug, "completion answered",
			slog.String("model", req.model), slog.Bool("stream", req.stream),
			slog.Int("prompt_tokens", p.tokens), slog.Int("max_tokens", maxTokens))
	}
}

// hang blocks until the client goes away or the server shuts down; then it
// aborts the response (the connection closes without an answer).
func (s *Server) hang(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-s.closing:
		panic(http.ErrAbortHandler)
	}
}

// addLatency waits Config.AddedLatency (scaled). It returns false when the
// client went away first.
func (s *Server) addLatency(ctx context.Context) bool {
	if s.cfg.AddedLatency <= 0 {
		return true
	}
	t := time.NewTimer(time.Duration(float64(s.cfg.AddedLatency) / s.cfg.TimeScale))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// outputLength returns how many tokens to generate and the finish reason:
// an explicit max_tokens is generated in full (finish "length"); otherwise
// Config.DefaultMaxTokens (finish "stop"), capped by the context length.
func (s *Server) outputLength(promptTokens, requested int) (int, string, *apiError) {
	maxLen := s.cfg.Profile.MaxModelLen
	tooLong := func(total int) *apiError {
		return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", code: "context_length_exceeded",
			message: fmt.Sprintf("This model's maximum context length is %d tokens. However, you requested %d tokens "+
				"(%d in the prompt, %d for the completion).", maxLen, total, promptTokens, total-promptTokens)}
	}
	if requested > 0 {
		if promptTokens+requested > maxLen {
			return 0, "", tooLong(promptTokens + requested)
		}
		return requested, finishLength, nil
	}
	if promptTokens >= maxLen {
		return 0, "", tooLong(promptTokens + 1)
	}
	if room := maxLen - promptTokens; room < s.cfg.DefaultMaxTokens {
		return room, finishLength, nil
	}
	return s.cfg.DefaultMaxTokens, finishStop, nil
}

// engineStopped is the answer when the engine stopped under a request.
func engineStopped() *apiError {
	return &apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "engine_stopped",
		message: "the engine is shutting down"}
}

// output writes one request's answer, whole or streamed.
type output struct {
	s            *Server
	chat         bool
	includeUsage bool
	req          *request
	model        string
	id           string
	object       string
	created      int64
}

func newOutput(s *Server, ep endpoint, req *apiRequest, er *request) *output {
	o := &output{s: s, chat: ep == endpointChat, includeUsage: req.includeUsage, req: er,
		model: req.model, created: time.Now().Unix()}
	switch {
	case o.chat && req.stream:
		o.id, o.object = s.responseID("chatcmpl-"), "chat.completion.chunk"
	case o.chat:
		o.id, o.object = s.responseID("chatcmpl-"), "chat.completion"
	default:
		o.id, o.object = s.responseID("cmpl-"), "text_completion"
	}
	return o
}

// wait blocks until the engine reports progress. It returns false, after
// aborting the request, when the client went away.
func (o *output) wait(ctx context.Context) bool {
	select {
	case <-o.req.notify:
		return true
	case <-ctx.Done():
		o.s.engine.abort(o.req)
		return false
	}
}

// usage is the OpenAI usage object.
type usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

func (o *output) usage(p progress) usage {
	u := usage{PromptTokens: o.req.prompt.tokens, CompletionTokens: p.generated,
		TotalTokens: o.req.prompt.tokens + p.generated}
	u.PromptTokensDetails.CachedTokens = p.cachedTokens
	return u
}

// whole answers with one JSON body once the request has finished.
func (o *output) whole(w http.ResponseWriter, r *http.Request) {
	var p progress
	for {
		if !o.wait(r.Context()) {
			return
		}
		if p = o.req.snapshot(); p.finished || p.stopped {
			break
		}
	}
	if p.stopped {
		writeError(w, engineStopped())
		return
	}
	text := make([]byte, 0, p.generated*bytesPerToken)
	for i := range p.generated {
		text = appendWord(text, o.req.prompt.outputSeed, i)
	}
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	type choice struct {
		Index        int       `json:"index"`
		Text         *string   `json:"text,omitempty"`
		Message      *message  `json:"message,omitempty"`
		Logprobs     *struct{} `json:"logprobs"`
		FinishReason string    `json:"finish_reason"`
	}
	c := choice{FinishReason: p.reason}
	if s := string(text); o.chat {
		c.Message = &message{Role: "assistant", Content: s}
	} else {
		c.Text = &s
	}
	writeJSON(w, http.StatusOK, struct {
		ID      string   `json:"id"`
		Object  string   `json:"object"`
		Created int64    `json:"created"`
		Model   string   `json:"model"`
		Choices []choice `json:"choices"`
		Usage   usage    `json:"usage"`
	}{o.id, o.object, o.created, o.model, []choice{c}, o.usage(p)})
}

// stream answers with server-sent events: one chunk per token (chat streams
// start with a role chunk), an optional usage chunk, then [DONE]. Headers
// are sent at once; the first event when the first token exists.
func (o *output) stream(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	prefix := o.chunkPrefix()
	buf := make([]byte, 0, 4096)
	sent := 0
	stalled := false
	for {
		if !o.wait(r.Context()) {
			return
		}
		p := o.req.snapshot()
		buf = buf[:0]
		if sent == 0 && p.generated > 0 && o.chat {
			buf = append(buf, prefix...)
			buf = append(buf, `{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]`...)
			buf = o.appendChunkEnd(buf)
		}
		for ; sent < p.generated; sent++ {
			buf = append(buf, prefix...)
			if o.chat {
				buf = append(buf, `{"index":0,"delta":{"content":"`...)
				buf = appendWord(buf, o.req.prompt.outputSeed, sent)
				buf = append(buf, `"},"logprobs":null,"finish_reason":`...)
			} else {
				buf = append(buf, `{"index":0,"text":"`...)
				buf = appendWord(buf, o.req.prompt.outputSeed, sent)
				buf = append(buf, `","logprobs":null,"finish_reason":`...)
			}
			if p.finished && sent == p.generated-1 {
				buf = strconv.AppendQuote(buf, p.reason)
			} else {
				buf = append(buf, "null"...)
			}
			buf = append(buf, "}]"...)
			buf = o.appendChunkEnd(buf)
		}
		switch {
		case p.stopped:
			e, _ := json.Marshal(engineStopped().body())
			buf = append(buf, "data: "...)
			buf = append(buf, e...)
			buf = append(buf, "\n\ndata: [DONE]\n\n"...)
		case p.finished:
			if o.includeUsage {
				u, _ := json.Marshal(o.usage(p))
				buf = append(buf, prefix...)
				buf = append(buf, `],"usage":`...)
				buf = append(buf, u...)
				buf = append(buf, "}\n\n"...)
			}
			buf = append(buf, "data: [DONE]\n\n"...)
		}
		if len(buf) > 0 {
			if _, err := w.Write(buf); err != nil {
				o.s.engine.abort(o.req)
				return
			}
			_ = rc.Flush()
			if o.s.cfg.StallFor > 0 && !stalled {
				stalled = true
				if !stall(r.Context(), o.s.cfg.StallFor) {
					o.s.engine.abort(o.req)
					return
				}
			}
		}
		if p.finished || p.stopped {
			return
		}
	}
}

// chunkPrefix returns `data: {"id":…,"object":…,"created":…,"model":…,"choices":[`.
func (o *output) chunkPrefix() []byte {
	head, _ := json.Marshal(struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
	}{o.id, o.object, o.created, o.model})
	b := append([]byte("data: "), head[:len(head)-1]...) // without the closing brace
	return append(b, `,"choices":[`...)
}

// appendChunkEnd closes a chunk after its choices array.
func (o *output) appendChunkEnd(buf []byte) []byte {
	if o.includeUsage {
		buf = append(buf, `,"usage":null`...)
	}
	return append(buf, "}\n\n"...)
}

// stall waits d, reporting false when ctx ended first.
func stall(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
