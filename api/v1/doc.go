// Package v1 holds the Go types of the inference.networking.k8s.io/v1 API
// group served by infergate: InferencePool, field for field compatible with
// the Gateway API Inference Extension's v1 API as of its v1.6 release, so the
// same YAML applies to either. The CRD generated from these types (with
// controller-gen, see hack/gen-crds.sh) is deploy/crds/.
//
// +kubebuilder:object:generate=true
// +groupName=inference.networking.k8s.io
package v1
