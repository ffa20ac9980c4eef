// Package kubetest starts a real Kubernetes control plane on loopback for
// tests: etcd (Debian's etcd-server), kube-apiserver and
// kube-controller-manager (built from the Go module proxy by
// hack/ensure-kube.sh and cached by version outside the repository).
//
// The API server authenticates a test admin (group system:masters) with a
// static token, authorizes with RBAC, and signs service-account tokens with
// keys generated per control plane. The controller manager runs only the
// controllers the gateway's tests need: the service-account and token
// controllers (so Secrets of type kubernetes.io/service-account-token get
// their token, as on a real cluster), the namespace controller and the
// garbage collector. There are no nodes, kubelets or schedulers: tests set
// Pod status themselves.
//
// StartForTest is the entry point for tests; Start and Stop are for callers
// that manage the lifetime themselves (a TestMain sharing one control plane).
// Starting takes a few seconds when the binaries are cached.
package kubetest
