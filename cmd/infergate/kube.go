package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/controller"
	"github.com/infergate/infergate/internal/gateway"
	"github.com/infergate/infergate/internal/kubeauth"
)

// serviceAccountNamespaceFile holds the pod's namespace inside a cluster.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// kubeParts are the Kubernetes pieces the gateway needs for cfg: the
// controller (Kubernetes mode) and the TokenReview/SubjectAccessReview
// delegate (metrics.auth.mode kubernetes). Either may be nil.
type kubeParts struct {
	controller *controller.Controller
	auth       *gateway.MetricsAuth
}

// newKubeParts builds what cfg asks for. The gateway runs the controller and
// hands it where to publish catalogs.
func newKubeParts(cfg *config.Config, reg prometheus.Registerer, log *slog.Logger) (kubeParts, error) {
	var parts kubeParts
	needAuth := cfg.Metrics.Auth.On() && cfg.Metrics.Auth.Mode == config.AuthKubernetes
	if !cfg.Kubernetes.Enabled && !needAuth {
		return parts, nil
	}
	rc, err := restConfig(cfg.Kubernetes.Kubeconfig)
	if err != nil {
		return parts, err
	}
	// client-go logs through klog's process-wide logger; send it to ours so
	// every line is structured like the rest.
	klog.SetSlogLogger(log.With("component", "client-go"))
	if needAuth {
		k := cfg.Metrics.Auth.Kubernetes
		d, err := kubeauth.NewForConfig(rc, kubeauth.Options{
			Timeout:         k.Timeout.Duration,
			TokenTTL:        k.TokenReviewTTL.Duration,
			InvalidTokenTTL: k.TokenReviewTTL.Duration,
			AllowTTL:        k.AllowTTL.Duration,
			DenyTTL:         k.DenyTTL.Duration,
			Logger:          log.With("component", "kubeauth"),
			Registerer:      reg,
		})
		if err != nil {
			return parts, err
		}
		parts.auth = &gateway.MetricsAuth{Authenticator: d, Authorizer: d}
	}
	if cfg.Kubernetes.Enabled {
		k := cfg.Kubernetes
		var selector map[string]string
		if k.PoolSelector != nil {
			selector = k.PoolSelector.MatchLabels
		}
		c, err := controller.New(controller.Options{
			Config:         rc,
			Namespace:      kubeNamespace(k.Namespace),
			PoolNames:      k.Pools,
			PoolSelector:   selector,
			LeaderElection: k.LeaderElection.On(),
			LeaseName:      k.LeaderElection.LeaseName,
			Identity:       os.Getenv("POD_NAME"),
			LeaseDuration:  k.LeaderElection.LeaseDuration.Duration,
			RenewDeadline:  k.LeaderElection.RenewDeadline.Duration,
			RetryPeriod:    k.LeaderElection.RetryPeriod.Duration,
			Logger:         log.With("component", "controller"),
		})
		if err != nil {
			return parts, err
		}
		parts.controller = c
	}
	return parts, nil
}

// restConfig loads the API server connection: the given kubeconfig, else
// $KUBECONFIG or ~/.kube/config, else the in-cluster service account.
func restConfig(kubeconfig string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client config: %w", err)
	}
	rc.UserAgent = "infergate"
	return rc, nil
}

// kubeNamespace resolves the namespace of Kubernetes mode: the configured
// one, else $POD_NAMESPACE, else the service account's, else "default".
func kubeNamespace(configured string) string {
	if configured != "" {
		return configured
	}
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if b, err := os.ReadFile(serviceAccountNamespaceFile); err == nil {
		if ns := strings.TrimSpace(string(b)); ns != "" {
			return ns
		}
	}
	return "default"
}
