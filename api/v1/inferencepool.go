package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// InferencePool is a set of model-server Pods, selected by label, that serve
// the same base model and that the gateway load-balances across. Every target
// port of every selected Pod is one endpoint (a data-parallel rank).
//
// +kubebuilder:object:root=true
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=https://github.com/kubernetes-sigs/gateway-api-inference-extension/pull/1173"
// +kubebuilder:resource:shortName=infpool
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
type InferencePool struct {
	metav1.TypeMeta `json:",inline"`

	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the pool.
	//
	// +required
	Spec InferencePoolSpec `json:"spec,omitzero"`

	// Status is the state of the pool as its parents (gateways) observe it.
	//
	// +optional
	Status InferencePoolStatus `json:"status,omitempty"`
}

// InferencePoolList is a list of InferencePools.
//
// +kubebuilder:object:root=true
type InferencePoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []InferencePool `json:"items"`
}

// InferencePoolSpec is the desired state of an InferencePool.
type InferencePoolSpec struct {
	// Selector picks the member Pods by label, in the pool's own namespace.
	//
	// +required
	Selector LabelSelector `json:"selector,omitzero"`

	// TargetPorts are the ports the model servers listen on; each one makes
	// a separate endpoint podIP:port. One to eight ports, each listed once.
	//
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:XValidation:message="port number must be unique",rule="self.all(p1, self.exists_one(p2, p1.number==p2.number))"
	// +listType=atomic
	// +required
	TargetPorts []Port `json:"targetPorts,omitempty"`

	// AppProtocol is the protocol spoken on every target port: "http"
	// (HTTP/1.1, the default) or "kubernetes.io/h2c" (HTTP/2 cleartext).
	//
	// +kubebuilder:validation:Enum=http;"kubernetes.io/h2c"
	// +kubebuilder:default="http"
	// +optional
	AppProtocol AppProtocol `json:"appProtocol,omitempty"`

	// EndpointPickerRef points at an external endpoint picker. infergate
	// picks endpoints itself and does not need one.
	//
	// +optional
	EndpointPickerRef *EndpointPickerRef `json:"endpointPickerRef,omitempty"`
}

// LabelSelector selects Pods whose labels contain every entry of MatchLabels.
// It is deliberately as simple as a Service selector.
type LabelSelector struct {
	// MatchLabels are the labels a member Pod must carry, all of them.
	//
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=64
	// +required
	MatchLabels map[LabelKey]LabelValue `json:"matchLabels,omitempty"`
}

// Port is a network port of the selected Pods.
type Port struct {
	// Number is the port number, 1 to 65535.
	//
	// +required
	Number PortNumber `json:"number,omitempty"`
}

// AppProtocol is the application protocol of a pool's target ports.
type AppProtocol string

const (
	// AppProtocolHTTP is HTTP/1.1, the default.
	AppProtocolHTTP AppProtocol = "http"
	// AppProtocolH2C is HTTP/2 over cleartext.
	AppProtocolH2C AppProtocol = "kubernetes.io/h2c"
)

// EndpointPickerRef refers to an endpoint-picker extension service and says
// what a gateway does when it does not answer.
//
// +kubebuilder:validation:XValidation:rule="self.kind != 'Service' || has(self.port)",message="port is required when kind is 'Service' or unspecified (defaults to 'Service')"
type EndpointPickerRef struct {
	// Group is the API group of the referent; "" (the default) is the core
	// group.
	//
	// +optional
	// +kubebuilder:default=""
	Group *Group `json:"group,omitempty"`

	// Kind is the kind of the referent, "Service" by default. ExternalName
	// Services are never supported.
	//
	// +optional
	// +kubebuilder:default=Service
	Kind Kind `json:"kind,omitempty"`

	// Name is the name of the referent.
	//
	// +required
	Name ObjectName `json:"name,omitempty"`

	// Port is the referent's port: for a Service, the service port (not
	// the target port). Required when Kind is Service.
	//
	// +optional
	Port *Port `json:"port,omitempty"`

	// FailureMode says whether requests still go through (FailOpen) or
	// fail (FailClose, the default) while the picker does not answer.
	//
	// +optional
	// +kubebuilder:default="FailClose"
	FailureMode EndpointPickerFailureMode `json:"failureMode,omitempty"`
}

// EndpointPickerFailureMode is how a gateway behaves while the endpoint
// picker is unavailable.
//
// +kubebuilder:validation:Enum=FailOpen;FailClose
type EndpointPickerFailureMode string

const (
	// EndpointPickerFailOpen lets the gateway pick an endpoint on its own.
	EndpointPickerFailOpen EndpointPickerFailureMode = "FailOpen"
	// EndpointPickerFailClose makes the gateway fail the request.
	EndpointPickerFailClose EndpointPickerFailureMode = "FailClose"
)
