package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// InferencePoolStatus is the observed state of an InferencePool, one entry per
// parent. Several controllers may write entries; each owns only its own.
type InferencePoolStatus struct {
	// Parents holds the pool's status per parent (usually a Gateway); at
	// most 32. An empty list means no parent is associated with the pool.
	//
	// +kubebuilder:validation:MaxItems=32
	// +optional
	// +listType=atomic
	Parents []ParentStatus `json:"parents,omitempty"`
}

// ParentStatus is the state of an InferencePool as one parent sees it.
type ParentStatus struct {
	// Conditions are the conditions the parent's controller reports, keyed
	// by type (Accepted, ResolvedRefs, Exported); at most 8.
	//
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ParentRef identifies the parent this entry belongs to.
	//
	// +required
	ParentRef ParentReference `json:"parentRef,omitzero"`

	// ControllerName names the controller that wrote this entry.
	//
	// +optional
	ControllerName ControllerName `json:"controllerName,omitempty"`
}

// ParentReference identifies the parent of an InferencePool status entry.
type ParentReference struct {
	// Group is the parent's API group, "gateway.networking.k8s.io" by
	// default.
	//
	// +optional
	// +kubebuilder:default="gateway.networking.k8s.io"
	Group *Group `json:"group,omitempty"`

	// Kind is the parent's kind, "Gateway" by default.
	//
	// +optional
	// +kubebuilder:default=Gateway
	Kind Kind `json:"kind,omitempty"`

	// Name is the parent's name.
	//
	// +required
	Name ObjectName `json:"name,omitempty"`

	// Namespace is the parent's namespace; empty means the pool's own.
	//
	// +optional
	Namespace Namespace `json:"namespace,omitempty"`
}

// InferencePoolConditionType is the type of an InferencePool status condition.
type InferencePoolConditionType string

// InferencePoolReason is the reason of an InferencePool status condition.
type InferencePoolReason string

const (
	// InferencePoolConditionAccepted tells whether a parent accepted the pool
	// as a backend.
	InferencePoolConditionAccepted InferencePoolConditionType = "Accepted"
	// InferencePoolConditionResolvedRefs tells whether the controller
	// resolved every reference of the pool.
	InferencePoolConditionResolvedRefs InferencePoolConditionType = "ResolvedRefs"
	// InferencePoolConditionExported tells whether the pool was exported to
	// other clusters.
	InferencePoolConditionExported InferencePoolConditionType = "Exported"
)

const (
	// InferencePoolReasonAccepted goes with Accepted=True.
	InferencePoolReasonAccepted InferencePoolReason = "Accepted"
	// InferencePoolReasonNotSupportedByParent goes with Accepted=False when
	// the parent cannot use an InferencePool as a backend.
	InferencePoolReasonNotSupportedByParent InferencePoolReason = "NotSupportedByParent"
	// InferencePoolReasonHTTPRouteNotAccepted goes with Accepted=False when
	// the route referring to the pool was rejected.
	InferencePoolReasonHTTPRouteNotAccepted InferencePoolReason = "HTTPRouteNotAccepted"
	// InferencePoolReasonEndpointPickerRefMissing goes with Accepted=False
	// when an implementation needs endpointPickerRef and it is unset.
	InferencePoolReasonEndpointPickerRefMissing InferencePoolReason = "EndpointPickerRefMissing"
	// InferencePoolReasonPending goes with Accepted=Unknown before any
	// controller has looked at the pool.
	InferencePoolReasonPending InferencePoolReason = "Pending"
	// InferencePoolReasonResolvedRefs goes with ResolvedRefs=True.
	InferencePoolReasonResolvedRefs InferencePoolReason = "ResolvedRefs"
	// InferencePoolReasonInvalidExtensionRef goes with ResolvedRefs=False
	// when endpointPickerRef cannot be used.
	InferencePoolReasonInvalidExtensionRef InferencePoolReason = "InvalidExtensionRef"
	// InferencePoolReasonExported goes with Exported=True.
	InferencePoolReasonExported InferencePoolReason = "Exported"
	// InferencePoolReasonNotRequested goes with Exported=False when no export
	// was asked for.
	InferencePoolReasonNotRequested InferencePoolReason = "NotRequested"
	// InferencePoolReasonNotSupported goes with Exported=False when export
	// was asked for but is not supported.
	InferencePoolReasonNotSupported InferencePoolReason = "NotSupported"
)
