package openai

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Request holds what the gateway needs from an OpenAI request body: the
// routing fields, the raw prompt bytes, and the byte spans Rewrite edits.
// Prompt aliases the body passed to ParseRequest; the body must not be
// modified while the Request is in use.
type Request struct {
	// Kind is the endpoint the body was parsed for.
	Kind Kind
	// Model is the decoded value of the top-level "model" member; never empty
	// after a successful parse.
	Model string
	// Stream is true when the top-level "stream" member is the literal true.
	// Any other value (false, null, "true", 1) counts as not streaming.
	Stream bool
	// IncludeUsage is true when "stream_options" is an object whose
	// "include_usage" member is the literal true.
	IncludeUsage bool
	// MaxTokens is "max_completion_tokens" when that is a positive integer,
	// else "max_tokens" when that is one, else 0 (absent, null, negative,
	// fractional, or larger than 16 digits).
	MaxTokens int
	// Prompt is the raw JSON of the member used for prefix routing —
	// "prompt" for completions, "messages" for chat, "input" for embeddings
	// — as a subslice of the body (not copied). It is nil for KindOther.
	Prompt []byte

	// Byte spans in the parsed body, [start, end). A start of 0 means absent:
	// no member value can start at offset 0 of an object.
	bodyLen            int
	objEnd             int // offset of the top-level closing '}'
	members            int // number of top-level members
	modelStart         int
	modelEnd           int
	soStart, soEnd     int  // value of the last "stream_options"
	soObject           bool // that value is an object
	soMembers          int  // members in that object
	iuStart, iuEnd     int  // value of its last "include_usage"
	maxTokens          int
	maxCompletionToken int
}

// field identifies the top-level members ParseRequest looks at.
type field uint8

const (
	fieldNone field = iota
	fieldModel
	fieldStream
	fieldStreamOptions
	fieldMaxTokens
	fieldMaxCompletionTokens
	fieldPrompt
)

func lookupField(name []byte, promptKey string) field {
	switch string(name) {
	case "model":
		return fieldModel
	case "stream":
		return fieldStream
	case "stream_options":
		return fieldStreamOptions
	case "max_tokens":
		return fieldMaxTokens
	case "max_completion_tokens":
		return fieldMaxCompletionTokens
	}
	if promptKey != "" && string(name) == promptKey {
		return fieldPrompt
	}
	return fieldNone
}

// ParseRequest reads an OpenAI request body for the given kind in one pass.
// The whole body is validated as JSON, as strictly as encoding/json does;
// when a member appears more than once, the last one wins, as in
// encoding/json. Keys are matched exactly (case-sensitive), after decoding
// escapes. Only the model name is copied; Prompt aliases body.
//
// Errors are *Error with status 400 and type invalid_request_error:
//   - code invalid_json when body is not a JSON object (the message gives the
//     byte offset and the problem, never body content);
//   - param "model" when "model" is missing, null, empty or not a string;
//   - param "messages" for chat without a non-empty "messages" array;
//   - param "prompt" for completions without "prompt", param "input" for
//     embeddings without "input" (null counts as missing).
func ParseRequest(body []byte, kind Kind) (Request, error) {
	r := Request{Kind: kind, bodyLen: len(body)}
	s := scanner{b: body}
	i := skipWS(body, 0)
	if i >= len(body) {
		return Request{}, NewError(StatusBadRequest, TypeInvalidRequest, CodeInvalidJSON, "",
			"The request body is empty; expected a JSON object.")
	}
	if body[i] != '{' {
		return Request{}, NewError(StatusBadRequest, TypeInvalidRequest, CodeInvalidJSON, "",
			"The request body must be a JSON object.")
	}
	promptKey := kind.promptKey()
	var (
		promptStart, promptEnd int
		buf                    [32]byte
	)
	it, _ := s.openObject(i, 0)
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		name, ok := keyName(key, &buf)
		f := fieldNone
		if ok {
			f = lookupField(name, promptKey)
		}
		if f == fieldStreamOptions && body[val] == '{' {
			if end := r.parseStreamOptions(&s, val); end < 0 {
				break
			} else {
				it.setEnd(end)
			}
			continue
		}
		end := it.skip(val)
		if end < 0 {
			break
		}
		switch f {
		case fieldModel:
			r.modelStart, r.modelEnd = val, end
		case fieldStream:
			r.Stream = body[val] == 't'
		case fieldStreamOptions: // not an object: null, or invalid for the server to judge
			r.soStart, r.soEnd, r.soObject = val, end, false
			r.iuStart, r.iuEnd, r.soMembers = 0, 0, 0
			r.IncludeUsage = false
		case fieldMaxTokens:
			r.maxTokens = parseCount(body[val:end])
		case fieldMaxCompletionTokens:
			r.maxCompletionToken = parseCount(body[val:end])
		case fieldPrompt:
			promptStart, promptEnd = val, end
		}
	}
	if !s.failed() {
		r.objEnd = it.end - 1
		r.members = it.n
		if j := skipWS(body, it.end); j < len(body) {
			s.fail(j, "unexpected data after the top-level object")
		}
	}
	if s.failed() {
		return Request{}, NewError(StatusBadRequest, TypeInvalidRequest, CodeInvalidJSON, "",
			"We could not parse the JSON body of your request: "+s.err.msg+
				" at byte offset "+strconv.Itoa(s.err.off)+".")
	}

	model, merr := decodeModel(body, r.modelStart, r.modelEnd)
	if merr != nil {
		return Request{}, merr
	}
	r.Model = model
	r.MaxTokens = r.maxCompletionToken
	if r.MaxTokens == 0 {
		r.MaxTokens = r.maxTokens
	}
	if promptStart > 0 {
		r.Prompt = body[promptStart:promptEnd:promptEnd]
	}
	if err := checkPrompt(kind, r.Prompt); err != nil {
		return Request{}, err
	}
	return r, nil
}

// parseStreamOptions walks the stream_options object at i, recording it and
// its include_usage member, and returns the index after it (-1 on error).
func (r *Request) parseStreamOptions(s *scanner, i int) int {
	var buf [32]byte
	it, _ := s.openObject(i, 1)
	r.iuStart, r.iuEnd = 0, 0
	r.IncludeUsage = false
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		end := it.skip(val)
		if end < 0 {
			return -1
		}
		if name, ok := keyName(key, &buf); ok && string(name) == "include_usage" {
			r.iuStart, r.iuEnd = val, end
			r.IncludeUsage = s.b[val] == 't'
		}
	}
	if s.failed() {
		return -1
	}
	r.soStart, r.soEnd, r.soObject, r.soMembers = i, it.end, true, it.n
	return it.end
}

// MaxModelNameBytes is the longest model name accepted, in bytes after
// decoding; longer names get 400 string_above_max_length before they are
// copied, so no client can make a name the gateway keeps, logs or exports
// larger than this.
const MaxModelNameBytes = 256

// maxEscapedBytes is the most JSON bytes one decoded byte can take (\u0041).
const maxEscapedBytes = 6

// decodeModel decodes the model value at body[start:end] (start 0 when
// absent) and checks it is a non-empty string of at most
// [MaxModelNameBytes].
func decodeModel(body []byte, start, end int) (string, *Error) {
	if start == 0 || body[start] == 'n' {
		return "", NewError(StatusBadRequest, TypeInvalidRequest, CodeMissingRequiredParameter, "model",
			"You must provide a model parameter.")
	}
	if body[start] != '"' {
		return "", NewError(StatusBadRequest, TypeInvalidRequest, CodeInvalidType, "model",
			"Invalid type for 'model': expected a string.")
	}
	raw := body[start+1 : end-1]
	if len(raw) > maxEscapedBytes*MaxModelNameBytes {
		// Too long however it decodes; don't copy it to find out.
		return "", ErrTooLong("model", MaxModelNameBytes, len(raw))
	}
	var model string
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		model = string(raw)
	} else {
		// Rare: escapes or invalid UTF-8, decoded exactly as encoding/json
		// does. The scanner validated the string, so this cannot fail.
		var decoded string
		if err := json.Unmarshal(body[start:end], &decoded); err != nil {
			return "", NewError(StatusBadRequest, TypeInvalidRequest, CodeInvalidType, "model",
				"Invalid type for 'model': expected a string.")
		}
		model = decoded
	}
	if model == "" {
		return "", NewError(StatusBadRequest, TypeInvalidRequest, CodeInvalidValue, "model",
			"Invalid value for 'model': the model name must not be empty.")
	}
	if len(model) > MaxModelNameBytes {
		return "", ErrTooLong("model", MaxModelNameBytes, len(model))
	}
	return model, nil
}

// checkPrompt enforces the members each kind requires.
func checkPrompt(kind Kind, p []byte) *Error {
	key := kind.promptKey()
	if key == "" {
		return nil
	}
	if len(p) == 0 || p[0] == 'n' {
		return NewError(StatusBadRequest, TypeInvalidRequest, CodeMissingRequiredParameter, key,
			"Missing required parameter: '"+key+"'.")
	}
	if kind != KindChatCompletions {
		return nil
	}
	if p[0] != '[' {
		return NewError(StatusBadRequest, TypeInvalidRequest, CodeInvalidType, key,
			"Invalid type for 'messages': expected an array.")
	}
	if p[skipWS(p, 1)] == ']' {
		return NewError(StatusBadRequest, TypeInvalidRequest, CodeEmptyArray, key,
			"Invalid 'messages': empty array. Expected an array with minimum length 1.")
	}
	return nil
}
