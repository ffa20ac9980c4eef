package controller

import (
	"encoding/json"
	"fmt"

	llmdv1alpha2 "github.com/infergate/infergate/api/llmd/v1alpha2"
	"github.com/infergate/infergate/api/v1alpha2"
)

// InferenceObjective and InferenceModelRewrite are served in two groups:
// llm-d router v0.10's llm-d.ai/v1alpha2 and GIE v1.5's
// inference.networking.x-k8s.io/v1alpha2. The controller watches each group
// the API server serves and merges them per object: an object whose
// namespace and name exist in both groups is taken from llm-d.ai, and the
// older one gets a deprecation Event; every other object counts whatever
// its group. (Upstream ignores every old-group object once the llm-d.ai
// CRDs are installed; merging keeps a GIE v1.5 user's objects working when
// the new CRDs arrive.)

// ReasonShadowed is the reason of the Warning Event an
// inference.networking.x-k8s.io object gets while an llm-d.ai object of the
// same name replaces it.
const ReasonShadowed = "DeprecatedGroupShadowed"

// mergeObjectives returns the objectives to route by: all of newer
// (converted to the older Go type the catalog reads) and those of older
// that newer does not shadow, which are returned apart.
func mergeObjectives(newer []llmdv1alpha2.InferenceObjective, older []v1alpha2.InferenceObjective) ([]v1alpha2.InferenceObjective, []*v1alpha2.InferenceObjective, error) {
	return mergeByName(newer, older)
}

// mergeRewrites is [mergeObjectives] for InferenceModelRewrites.
func mergeRewrites(newer []llmdv1alpha2.InferenceModelRewrite, older []v1alpha2.InferenceModelRewrite) ([]v1alpha2.InferenceModelRewrite, []*v1alpha2.InferenceModelRewrite, error) {
	return mergeByName(newer, older)
}

// named is an API object, by pointer.
type named[T any] interface {
	*T
	GetName() string
}

// mergeByName merges one kind's objects of both groups: every object of
// newer (llm-d.ai, converted to the older Go type), then the objects of
// older whose name newer does not hold; the shadowed ones are returned
// apart.
func mergeByName[N, O any, PN named[N], PO named[O]](newer []N, older []O) (out []O, shadowed []*O, err error) {
	names := make(map[string]bool, len(newer))
	for i := range newer {
		var o O
		if err := convert(&newer[i], &o); err != nil {
			return nil, nil, err
		}
		names[PN(&newer[i]).GetName()] = true
		out = append(out, o)
	}
	for i := range older {
		if names[PO(&older[i]).GetName()] {
			shadowed = append(shadowed, &older[i])
			continue
		}
		out = append(out, older[i])
	}
	return out, shadowed, nil
}

// convert copies an llm-d.ai object into the identically shaped older Go
// type through its JSON form (the two groups' types have the same fields).
func convert(in, out any) error {
	data, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("convert %T: %w", in, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("convert %T: %w", in, err)
	}
	return nil
}
