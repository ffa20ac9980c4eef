package simulator

import (
	"net/http"
	"time"
)

// modelList is the GET /v1/models body, in vLLM's shape.
type modelList struct {
	Object string      `json:"object"`
	Data   []modelCard `json:"data"`
}

// modelCard is one served model: the base model (parent null) or a LoRA
// adapter (parent = base model).
type modelCard struct {
	ID          string  `json:"id"`
	Object      string  `json:"object"`
	Created     int64   `json:"created"`
	OwnedBy     string  `json:"owned_by"`
	Root        string  `json:"root"`
	Parent      *string `json:"parent"`
	MaxModelLen int     `json:"max_model_len"`
}

// newModelList lists cfg's base model and every servable adapter.
func newModelList(cfg *Config, now time.Time) modelList {
	created := now.Unix()
	base := cfg.Model
	list := modelList{Object: "list", Data: []modelCard{{
		ID: base, Object: "model", Created: created, OwnedBy: "vllm", Root: base,
		MaxModelLen: cfg.Profile.MaxModelLen,
	}}}
	for _, a := range cfg.LoRAs {
		list.Data = append(list.Data, modelCard{
			ID: a, Object: "model", Created: created, OwnedBy: "vllm", Root: a, Parent: &base,
			MaxModelLen: cfg.Profile.MaxModelLen,
		})
	}
	return list
}

// serveModels answers GET /v1/models.
func (s *Server) serveModels(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.models)
}
