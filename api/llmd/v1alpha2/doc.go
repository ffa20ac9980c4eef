// Package v1alpha2 holds the Go types of the llm-d.ai/v1alpha2 API group
// served by infergate: InferenceObjective and InferenceModelRewrite as llm-d
// router v0.10 serves them. They have the same fields and validation as the
// older inference.networking.x-k8s.io/v1alpha2 types in api/v1alpha2; they
// are separate Go types because controller-runtime registers one Go type
// under one group only. Where an object of the same namespace and name
// exists in both groups, the llm-d.ai one wins (see internal/controller).
// The CRDs generated from these types are in deploy/crds/.
//
// +kubebuilder:object:generate=true
// +groupName=llm-d.ai
package v1alpha2
