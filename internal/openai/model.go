package openai

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ModelList is the body of GET /v1/models: {"object":"list","data":[…]}.
// Data should be non-nil when serving, so it encodes as [] rather than null.
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}

// Model is one entry of a ModelList. Root and Parent are vLLM extensions: a
// LoRA adapter's Parent is its base model.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	Root    string `json:"root,omitempty"`
	Parent  string `json:"parent,omitempty"`
}

// ParseModelList returns the model IDs, in order and without empty ones,
// from a /v1/models response body. A body without a "data" array is an
// error. Unknown members (vLLM's max_model_len,
// permission, …) and null root/parent are accepted.
func ParseModelList(b []byte) ([]string, error) {
	var l struct {
		Data *[]Model `json:"data"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("parse model list: %w", err)
	}
	if l.Data == nil {
		return nil, errors.New("parse model list: no data array")
	}
	ids := make([]string, 0, len(*l.Data))
	for _, m := range *l.Data {
		if m.ID != "" {
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}
