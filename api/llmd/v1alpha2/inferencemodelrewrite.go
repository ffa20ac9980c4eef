package v1alpha2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// InferenceModelRewrite rewrites the model name of requests to a pool,
// optionally splitting them across several target models by weight.
//
// Precedence across rules and objects: an exact model match wins over a rule
// without matches; among equals the oldest object wins, then its first rule.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Inference Pool",type=string,JSONPath=`.spec.poolRef.name`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type InferenceModelRewrite struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the rewrite.
	Spec InferenceModelRewriteSpec `json:"spec,omitempty"`
	// Status is the observed state of the rewrite.
	Status InferenceModelRewriteStatus `json:"status,omitempty"`
}

// InferenceModelRewriteList is a list of InferenceModelRewrites.
//
// +kubebuilder:object:root=true
type InferenceModelRewriteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []InferenceModelRewrite `json:"items"`
}

// InferenceModelRewriteSpec is the desired state of an InferenceModelRewrite.
type InferenceModelRewriteSpec struct {
	// PoolRef is the pool, in the same namespace, whose requests are
	// rewritten.
	//
	// +kubebuilder:validation:Required
	PoolRef *PoolObjectReference `json:"poolRef"`

	// Rules are tried in order; the first that matches applies.
	//
	// +kubebuilder:validation:Required
	Rules []InferenceModelRewriteRule `json:"rules"`
}

// InferenceModelRewriteRule maps the requests it matches to target models.
// A rule without matches applies to every model of the pool.
type InferenceModelRewriteRule struct {
	// Matches are alternatives: the rule applies when any one matches.
	//
	// +optional
	Matches []Match `json:"matches,omitempty"`

	// Targets are the models matched requests are sent to, split by weight.
	// Optional as in llm-d router v0.10 (a rule without targets routes
	// nothing), but never an empty list.
	//
	// +optional
	// +kubebuilder:validation:MinItems=1
	Targets []TargetModel `json:"targets,omitempty"`
}

// Match selects requests.
type Match struct {
	// Model matches the request body's "model" field.
	//
	// +kubebuilder:validation:Required
	Model ModelMatch `json:"model"`
}

// ModelMatch compares the request's model name with Value.
type ModelMatch struct {
	// Type is how to compare; only "Exact" exists, and it is the default.
	//
	// +optional
	// +kubebuilder:default=Exact
	Type *MatchValidationType `json:"type,omitempty"`

	// Value is the model name to compare with.
	//
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Required
	Value string `json:"value"`
}

// MatchValidationType is a kind of string comparison.
//
// +kubebuilder:validation:Enum=Exact
type MatchValidationType string

// MatchExact compares for equality.
const MatchExact MatchValidationType = "Exact"

// TargetModel is one weighted destination model.
type TargetModel struct {
	// Weight is this target's share: weight / sum of the rule's weights.
	// Either every target of a rule sets a weight or none does (then they
	// share equally).
	//
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	Weight *int32 `json:"weight,omitempty"`

	// ModelRewrite is the model name the request is rewritten to.
	//
	// +kubebuilder:validation:Required
	ModelRewrite string `json:"modelRewrite"`
}

// InferenceModelRewriteStatus is the observed state of an
// InferenceModelRewrite.
type InferenceModelRewriteStatus struct {
	// Conditions are the rewrite's conditions, keyed by type; at most 8.
	//
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:default={{type: "Accepted", status: "Unknown", reason:"Pending", message:"Waiting for controller", lastTransitionTime: "1970-01-01T00:00:00Z"}}
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}
