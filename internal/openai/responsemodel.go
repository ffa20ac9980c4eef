package openai

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// ResponseModel returns the top-level "model" member of b, the start of a
// JSON response object or the payload of one SSE data event (the model the
// server answered with), decoded. b may be cut anywhere after that member:
// members are read in order and the rest is not looked at. ok is false when
// b does not start with a JSON object, the object is invalid or cut before
// its "model" member, has none, or its value is not a non-empty string of
// at most [MaxModelNameBytes] bytes.
func ResponseModel(b []byte) (model string, ok bool) {
	s := scanner{b: b}
	it, ok := s.openObject(skipWS(b, 0), 0)
	if !ok {
		return "", false
	}
	var buf [32]byte
	for {
		key, val, ok := it.next()
		if !ok {
			return "", false
		}
		if name, _ := keyName(key, &buf); string(name) == "model" {
			if b[val] != '"' {
				return "", false
			}
			end := s.skipString(val)
			if end < 0 {
				return "", false
			}
			return decodeResponseModel(b[val:end])
		}
		if it.skip(val) < 0 {
			return "", false
		}
	}
}

// decodeResponseModel decodes the JSON string q (quotes included, already
// validated) as a model name.
func decodeResponseModel(q []byte) (string, bool) {
	raw := q[1 : len(q)-1]
	if len(raw) == 0 || len(raw) > maxEscapedBytes*MaxModelNameBytes {
		return "", false
	}
	var model string
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		model = string(raw)
	} else if err := json.Unmarshal(q, &model); err != nil {
		return "", false
	}
	if model == "" || len(model) > MaxModelNameBytes {
		return "", false
	}
	return model, true
}
