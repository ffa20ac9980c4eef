package simulator

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strings"
)

// endpoint is the OpenAI API a request body was sent to.
type endpoint uint8

const (
	endpointCompletions endpoint = iota // POST /v1/completions
	endpointChat                        // POST /v1/chat/completions
)

// apiRequest is what the simulator needs from a completion request body.
type apiRequest struct {
	model        string
	stream       bool
	includeUsage bool
	// maxTokens is max_completion_tokens, else max_tokens; 0 when unset.
	maxTokens int
	// text is the prompt stream: the bytes whose length, divided by
	// bytesPerToken, is the prompt's token count (a positive multiple of
	// bytesPerToken).
	text []byte
}

// requestBody is the subset of the OpenAI request fields the simulator reads.
type requestBody struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	Messages      []chatMessage   `json:"messages"`
	Stream        bool            `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	N                   *int `json:"n"`
}

// chatMessage is one chat message; content is a string, an array of
// content parts, or null.
type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// contentPart is one element of an array content; only text parts count.
type contentPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Chat template markers. Each message becomes header(role) + content +
// messageEnd, the header and the end padded to a multiple of bytesPerToken,
// so a message adds about four tokens and message contents start aligned.
// The prompt ends with the assistant header, after which the output's
// four-byte words follow.
const (
	messageEnd    = "<|eot|>"
	assistantRole = "assistant"
)

// parseRequest reads a completion (ep == endpointCompletions) or chat
// completion body. Every error is a 400 *apiError.
func parseRequest(ep endpoint, data []byte) (apiRequest, *apiError) {
	var body requestBody
	if err := json.Unmarshal(data, &body); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return apiRequest{}, badRequest(typeErr.Field, "invalid type for field "+typeErr.Field)
		}
		return apiRequest{}, badRequest("", "request body is not valid JSON")
	}
	if body.Model == "" {
		return apiRequest{}, badRequest("model", "model is required")
	}
	req := apiRequest{model: body.Model, stream: body.Stream}
	if body.StreamOptions != nil {
		if !body.Stream {
			return apiRequest{}, badRequest("stream_options", "stream_options is only allowed when stream is true")
		}
		req.includeUsage = body.StreamOptions.IncludeUsage
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"max_tokens", body.MaxTokens}, {"max_completion_tokens", body.MaxCompletionTokens}} {
		if f.v == nil {
			continue
		}
		if *f.v < 1 {
			return apiRequest{}, badRequest(f.name, f.name+" must be at least 1")
		}
		req.maxTokens = *f.v
	}
	if body.N != nil && *body.N != 1 {
		return apiRequest{}, badRequest("n", "the simulator supports only n=1")
	}
	var err *apiError
	switch ep {
	case endpointChat:
		req.text, err = chatText(body.Messages)
	default:
		req.text, err = completionText(body.Prompt)
	}
	if err != nil {
		return apiRequest{}, err
	}
	return req, nil
}

// completionText returns the prompt stream of a completions prompt: a
// string, a one-element array of strings, an array of token ids or a
// one-element array of token id arrays (each id counts as one token).
func completionText(raw json.RawMessage) ([]byte, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, badRequest("prompt", "prompt is required")
	}
	var text []byte
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("prompt", "prompt must be a string, an array of strings or an array of token ids")
		}
		text = []byte(s)
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, badRequest("prompt", "prompt must be a string, an array of strings or an array of token ids")
		}
		if len(elems) == 0 {
			return nil, badRequest("prompt", "prompt must not be empty")
		}
		first := bytes.TrimSpace(elems[0])
		if len(first) > 0 && (first[0] == '"' || first[0] == '[') {
			if len(elems) != 1 {
				return nil, badRequest("prompt", "the simulator supports exactly one prompt per request")
			}
			if first[0] == '"' {
				return completionText(first)
			}
			raw = first
		}
		var ids []int
		if err := json.Unmarshal(raw, &ids); err != nil {
			return nil, badRequest("prompt", "prompt must be a string, an array of strings or an array of token ids")
		}
		for _, id := range ids {
			if id < 0 || id > math.MaxInt32 {
				return nil, badRequest("prompt", "token ids must be non-negative 32-bit integers")
			}
			text = binary.LittleEndian.AppendUint32(text, uint32(id))
		}
	default:
		return nil, badRequest("prompt", "prompt must be a string, an array of strings or an array of token ids")
	}
	if len(text) == 0 {
		return nil, badRequest("prompt", "prompt must not be empty")
	}
	return padTokens(text, ' '), nil
}

// chatText returns the prompt stream of chat messages (see messageEnd).
func chatText(msgs []chatMessage) ([]byte, *apiError) {
	if len(msgs) == 0 {
		return nil, badRequest("messages", "messages must not be empty")
	}
	var text []byte
	for _, m := range msgs {
		if m.Role == "" {
			return nil, badRequest("messages", "every message needs a role")
		}
		text = appendHeader(text, m.Role)
		var err *apiError
		if text, err = appendContent(text, m.Content); err != nil {
			return nil, err
		}
		text = padTokens(append(text, messageEnd...), '\n')
	}
	return appendHeader(text, assistantRole), nil
}

// appendHeader appends a message header for role, padded to a token
// boundary.
func appendHeader(dst []byte, role string) []byte {
	dst = append(dst, "<|"...)
	dst = append(dst, role...)
	return padTokens(append(dst, "|>"...), '\n')
}

// appendContent appends a message content: a string, an array of content
// parts (text parts are concatenated, others ignored) or null.
func appendContent(dst []byte, raw json.RawMessage) ([]byte, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return dst, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("messages", "message content must be a string or an array of content parts")
		}
		return append(dst, s...), nil
	case '[':
		var parts []contentPart
		if err := json.Unmarshal(raw, &parts); err != nil {
			return nil, badRequest("messages", "message content must be a string or an array of content parts")
		}
		for _, p := range parts {
			if strings.EqualFold(p.Type, "text") {
				dst = append(dst, p.Text...)
			}
		}
		return dst, nil
	}
	return nil, badRequest("messages", "message content must be a string or an array of content parts")
}

// padTokens pads b with pad to a multiple of bytesPerToken.
func padTokens(b []byte, pad byte) []byte {
	for len(b)%bytesPerToken != 0 {
		b = append(b, pad)
	}
	return b
}
