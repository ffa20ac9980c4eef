// Package kube holds tests against a real Kubernetes control plane (etcd,
// kube-apiserver, kube-controller-manager on loopback, started by
// internal/kubetest): the CRDs in deploy/crds accept upstream-style objects
// and reject invalid ones, and the metrics-reader RBAC objects of Google's
// Managed Prometheus guide (deploy/rbac) work as published.
package kube
