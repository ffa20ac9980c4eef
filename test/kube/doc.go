// Package kube holds tests against a real Kubernetes control plane (etcd,
// kube-apiserver, kube-controller-manager on loopback, started by
// internal/kubetest): the CRDs in deploy/crds accept upstream-style objects
// and reject invalid ones, and the metrics-reader RBAC objects of Google's
// Managed Prometheus guide (deploy/rbac) work as published.
//
// The deploy_*_test.go files check the cluster packaging: every kustomize
// target under deploy/kustomize and the Helm chart deploy/helm/infergate,
// rendered with the kustomize and helm `make render-tools` builds, hold the
// gateway's contract and Google's objects as published, and are accepted
// by a control plane with Managed Prometheus' and prometheus-operator's
// CRDs (testdata/crds), with the RBAC they grant checked by
// SubjectAccessReviews.
package kube
