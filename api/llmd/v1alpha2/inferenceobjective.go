package v1alpha2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// InferenceObjective gives the requests that name it (in the
// x-llm-d-inference-objective header) a priority within one InferencePool.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Inference Pool",type=string,JSONPath=`.spec.poolRef.name`
// +kubebuilder:printcolumn:name="Priority",type=string,JSONPath=`.spec.priority`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type InferenceObjective struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the objective.
	Spec InferenceObjectiveSpec `json:"spec,omitempty"`
	// Status is the observed state of the objective.
	Status InferenceObjectiveStatus `json:"status,omitempty"`
}

// InferenceObjectiveList is a list of InferenceObjectives.
//
// +kubebuilder:object:root=true
type InferenceObjectiveList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []InferenceObjective `json:"items"`
}

// InferenceObjectiveSpec is the desired state of an InferenceObjective.
type InferenceObjectiveSpec struct {
	// Priority orders requests of the pool when capacity is short: higher
	// is served first, negative values are allowed and mark sheddable
	// traffic. Unset counts as 0.
	//
	// +optional
	Priority *int32 `json:"priority,omitempty"`

	// PoolRef is the pool, in the same namespace, the objective applies to.
	//
	// +kubebuilder:validation:Required
	PoolRef PoolObjectReference `json:"poolRef"`
}

// InferenceObjectiveStatus is the observed state of an InferenceObjective.
type InferenceObjectiveStatus struct {
	// Conditions are the objective's conditions, keyed by type; at most 8.
	//
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:default={{type: "Ready", status: "Unknown", reason:"Pending", message:"Waiting for controller", lastTransitionTime: "1970-01-01T00:00:00Z"}}
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ObjectiveConditionType is the type of an InferenceObjective condition.
type ObjectiveConditionType string

// ObjectiveConditionReason is the reason of an InferenceObjective condition.
type ObjectiveConditionReason string

const (
	// ObjectiveConditionAccepted tells whether the objective was accepted.
	ObjectiveConditionAccepted ObjectiveConditionType = "Accepted"
	// ObjectiveReasonAccepted goes with Accepted=True.
	ObjectiveReasonAccepted ObjectiveConditionReason = "Accepted"
	// ObjectiveReasonPending goes with Accepted=Unknown before a controller
	// has looked at the objective.
	ObjectiveReasonPending ObjectiveConditionReason = "Pending"
)
