package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Defaults of [Cluster].
const (
	// DefaultSelector selects the gateway's pods, as the ClusterPodMonitoring
	// of Google's guide does.
	DefaultSelector = "app=inference-gateway-ext-proc"
	// DefaultCollector is the Managed Prometheus collector's ServiceAccount,
	// as "namespace:name".
	DefaultCollector = "gmp-system:collector"
	// AutopilotCollector is the collector's ServiceAccount on GKE Autopilot.
	AutopilotCollector = "gke-gmp-system:collector"
	// MetricsPortName is the container port name the monitoring objects
	// select.
	MetricsPortName = "metrics"
)

// Cluster says how to reach the Kubernetes API and where the gateway runs.
// The zero value loads the default kubeconfig and checks the guide's names.
type Cluster struct {
	// Config is the client configuration; nil means load Kubeconfig.
	Config *rest.Config
	// Kubeconfig is the kubeconfig file; "" means client-go's default
	// loading rules ($KUBECONFIG, then ~/.kube/config), then the in-cluster
	// configuration of a pod.
	Kubeconfig string
	// Namespace holds the gateway's pods and the token secret; "" means the
	// kubeconfig context's namespace, else "default".
	Namespace string
	// AllNamespaces looks for the gateway's pods in every namespace.
	AllNamespaces bool
	// Selector is the label selector of the gateway's pods (kubectl -l
	// syntax); "" means [DefaultSelector].
	Selector string
	// Collector is the Managed Prometheus collector's ServiceAccount as
	// "namespace:name"; "" means [DefaultCollector].
	Collector string
}

// withDefaults fills the empty fields that have defaults.
func (c Cluster) withDefaults() Cluster {
	if c.Selector == "" {
		c.Selector = DefaultSelector
	}
	if c.Collector == "" {
		c.Collector = DefaultCollector
	}
	return c
}

// kube is an open connection to the API server.
type kube struct {
	cs        kubernetes.Interface
	dyn       dynamic.Interface
	http      *http.Client
	namespace string
	// user is the doctor's user name; "" when unknown.
	user string
}

// close drops the connection's idle keep-alive connections.
func (k *kube) close() {
	if k != nil {
		k.http.CloseIdleConnections()
	}
}

// loadConfig returns the client configuration, the namespace and where the
// namespace came from ("" for the default).
func loadConfig(c Cluster) (*rest.Config, string, string, error) {
	if c.Config != nil {
		if c.Namespace != "" {
			return c.Config, c.Namespace, "--namespace", nil
		}
		return c.Config, metav1.NamespaceDefault, "", nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.Kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", "", err
	}
	if c.Namespace != "" {
		return cfg, c.Namespace, "--namespace", nil
	}
	ns, _, err := cc.Namespace()
	if err != nil || ns == "" {
		return cfg, metav1.NamespaceDefault, "", nil
	}
	return cfg, ns, "the kubeconfig context", nil
}

// connect opens the connection and reports the cluster check; nil when the
// API server cannot be used.
func (r *Report) connect(ctx context.Context, c Cluster, timeout time.Duration) *kube {
	cfg, ns, nsFrom, err := loadConfig(c)
	if err != nil {
		detail, fix := explainLoad(c.Kubeconfig, err)
		r.add(CheckCluster, Fail, detail, fix)
		return nil
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.Timeout == 0 {
		cfg.Timeout = timeout
	}
	cfg.WarningHandler, cfg.WarningHandlerWithContext = rest.NoWarnings{}, nil
	if cfg.UserAgent == "" {
		cfg.UserAgent = "infergate-doctor"
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		r.add(CheckCluster, Fail, "invalid client configuration: "+oneLine(err.Error()), "check the kubeconfig's cluster and user entries")
		return nil
	}
	cs, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		hc.CloseIdleConnections()
		r.add(CheckCluster, Fail, "invalid client configuration: "+oneLine(err.Error()), "check the kubeconfig's cluster and user entries")
		return nil
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		hc.CloseIdleConnections()
		r.add(CheckCluster, Fail, "invalid client configuration: "+oneLine(err.Error()), "check the kubeconfig's cluster and user entries")
		return nil
	}
	k := &kube{cs: cs, dyn: dyn, http: hc, namespace: ns}

	v, err := discovery.ToServerVersionInterfaceWithContext(cs.Discovery()).ServerVersionWithContext(ctx)
	if err != nil {
		k.close()
		detail, fix := explainAPI(cfg.Host, err)
		r.add(CheckCluster, Fail, detail, fix)
		return nil
	}
	who := ""
	if ssr, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{}); err == nil {
		k.user = oneLine(ssr.Status.UserInfo.Username)
		who = ", as " + k.user
	}
	if nsFrom != "" {
		nsFrom = " (from " + nsFrom + ")"
	}
	r.add(CheckCluster, Pass, fmt.Sprintf("API server %s (Kubernetes %s)%s; namespace %s%s",
		cfg.Host, oneLine(v.GitVersion), who, ns, nsFrom), "")
	return k
}

// explainLoad explains a kubeconfig that cannot be loaded.
func explainLoad(path string, err error) (detail, fix string) {
	switch {
	case path != "" && errors.Is(err, os.ErrNotExist):
		return "kubeconfig " + path + " does not exist", "pass the path of a kubeconfig with --kubeconfig"
	case clientcmd.IsEmptyConfig(err):
		return "no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a pod",
			"pass --kubeconfig FILE or set KUBECONFIG (on GKE: gcloud container clusters get-credentials CLUSTER)"
	}
	return "cannot load the kubeconfig: " + oneLine(err.Error()),
		"check --kubeconfig (or $KUBECONFIG) and its current context"
}

// explainAPI explains a failed first request to the API server.
func explainAPI(host string, err error) (detail, fix string) {
	switch {
	case apierrors.IsUnauthorized(err):
		return "the API server at " + host + " rejected the kubeconfig's credentials (401)",
			"refresh them (on GKE: gcloud container clusters get-credentials CLUSTER) or pick another context"
	case apierrors.IsForbidden(err):
		return "the API server at " + host + " refused the request (403): " + oneLine(err.Error()),
			"use credentials that may read /version, e.g. those of a cluster user"
	}
	msg := oneLine(err.Error())
	if strings.Contains(msg, "certificate") {
		return "the API server's TLS certificate is not trusted: " + msg,
			"check the cluster's certificate-authority-data in the kubeconfig"
	}
	return "cannot reach the API server at " + host + ": " + msg,
		"is the cluster up and reachable from here (VPN, authorized networks)? check --kubeconfig and its current context"
}
