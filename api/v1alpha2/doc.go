// Package v1alpha2 holds the Go types of the inference.networking.x-k8s.io/
// v1alpha2 API group served by infergate: InferenceObjective (a request
// priority per objective, chosen by the x-gateway-inference-objective header)
// and InferenceModelRewrite (model-name rewrites with weighted traffic
// splits), compatible with the Gateway API Inference Extension's types of the
// same names. The CRDs generated from these types are in deploy/crds/.
//
// +kubebuilder:object:generate=true
// +groupName=inference.networking.x-k8s.io
package v1alpha2
