package kube

import (
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/infergate/infergate/internal/config"
)

// gatewayPodLabel is the label Google's ClusterPodMonitoring selects the
// gateway's pods by; it must be exactly this.
const gatewayPodLabel = "inference-gateway-ext-proc"

// gatewayConfigPath is where the gateway's container reads its config file.
const gatewayConfigPath = "/etc/infergate/config.yaml"

// deployedGateway is what a rendering of the gateway must hold.
type deployedGateway struct {
	namespace string
	// name of the Deployment, its ServiceAccount and Service.
	name        string
	image       string
	pools       []string
	authEnabled bool
	authMode    string
	// proxyTLS and metricsTLS name the kubernetes.io/tls Secret of the
	// proxy and metrics listeners; empty: plain HTTP.
	proxyTLS, metricsTLS string
	// proxyOff: the OpenAI proxy listener is off (no port http).
	proxyOff bool
	// picker: the ext_proc picker runs (ports grpc and grpc-health, gRPC
	// probes, Service port grpc).
	picker bool
}

// checkDeployedGateway checks the gateway's Deployment, Service, ServiceAccount and
// config file in m against the contract the gateway and Google's monitoring
// rely on, and returns the parsed config.
func checkDeployedGateway(t *testing.T, m objectList, want deployedGateway) *config.Config {
	t.Helper()
	dep := asTyped[appsv1.Deployment](t, m.get(t, "Deployment", want.namespace, want.name))
	pod := dep.Spec.Template
	if got := pod.Labels["app"]; got != gatewayPodLabel {
		t.Errorf("pod label app=%q; want %q (Google's ClusterPodMonitoring selects it)", got, gatewayPodLabel)
	}
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
		t.Errorf("Deployment selector %v does not match its pod labels %v (%v)", dep.Spec.Selector, pod.Labels, err)
	}
	if pod.Spec.ServiceAccountName != want.name {
		t.Errorf("serviceAccountName %q; want %q", pod.Spec.ServiceAccountName, want.name)
	}
	m.get(t, "ServiceAccount", want.namespace, want.name)

	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers; want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	if c.Image != want.image {
		t.Errorf("image %q; want %q", c.Image, want.image)
	}
	ports := map[string]corev1.ContainerPort{}
	for _, p := range c.Ports {
		ports[p.Name] = p
	}
	wantPorts := want.containerPorts()
	for name, number := range wantPorts {
		if p, ok := ports[name]; !ok || p.ContainerPort != number || (p.Protocol != "" && p.Protocol != corev1.ProtocolTCP) {
			t.Errorf("container port %q = %+v; want TCP %d", name, p, number)
		}
	}
	if len(ports) != len(wantPorts) {
		t.Errorf("container ports %v; want exactly %v", c.Ports, wantPorts)
	}
	if want.picker {
		checkGRPCProbe(t, "liveness", c.LivenessProbe, "liveness")
		checkGRPCProbe(t, "readiness", c.ReadinessProbe, "readiness")
	} else {
		probeScheme := corev1.URISchemeHTTP
		if want.metricsTLS != "" {
			probeScheme = corev1.URISchemeHTTPS
		}
		checkDeployedProbe(t, "liveness", c.LivenessProbe, "/healthz", probeScheme)
		checkDeployedProbe(t, "readiness", c.ReadinessProbe, "/readyz", probeScheme)
	}
	checkDeployedSecurity(t, pod.Spec.SecurityContext, c.SecurityContext)
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
			t.Errorf("no %s request", r)
		}
	}
	checkDeployedEnv(t, c.Env, map[string]string{"POD_NAMESPACE": "metadata.namespace", "POD_NAME": "metadata.name"})
	if len(c.Args) == 0 || c.Args[0] != "serve" || !slices.Contains(c.Args, "--config="+gatewayConfigPath) {
		t.Errorf("args %q; want serve --config=%s ...", c.Args, gatewayConfigPath)
	}

	cfg := deployedConfig(t, m, want.namespace, pod.Spec, c)
	if !cfg.Kubernetes.Enabled {
		t.Error("config: kubernetes.enabled is false")
	}
	if diff := cmp.Diff(want.pools, cfg.Kubernetes.Pools); diff != "" {
		t.Errorf("config kubernetes.pools (-want +got):\n%s", diff)
	}
	for _, l := range []struct {
		name   string
		pair   config.KeyPair
		secret string
	}{
		{"tls.proxy", cfg.TLS.Proxy, want.proxyTLS},
		{"tls.metrics", cfg.TLS.Metrics, want.metricsTLS},
	} {
		if l.pair.IsSet() != (l.secret != "") {
			t.Errorf("config %s = %+v; want it set iff the listener has a Secret (%q)", l.name, l.pair, l.secret)
			continue
		}
		if l.secret != "" {
			checkSecretFile(t, pod.Spec, c, l.name+".certFile", l.pair.CertFile, l.secret, corev1.TLSCertKey)
			checkSecretFile(t, pod.Spec, c, l.name+".keyFile", l.pair.KeyFile, l.secret, corev1.TLSPrivateKeyKey)
		}
	}
	if !cfg.Kubernetes.LeaderElection.On() {
		t.Error("config: leader election is off")
	}
	if cfg.Metrics.Auth.On() != want.authEnabled || (want.authEnabled && cfg.Metrics.Auth.Mode != want.authMode) {
		t.Errorf("config metrics.auth enabled=%v mode=%q; want enabled=%v mode=%q", cfg.Metrics.Auth.On(), cfg.Metrics.Auth.Mode, want.authEnabled, want.authMode)
	}
	raw := deployedRawConfig(t, m, want.namespace, pod.Spec, c)
	extProcListen, _, _ := unstructured.NestedString(raw, "extProc", "listen")
	extProcHealth, _, _ := unstructured.NestedString(raw, "extProc", "healthListen")
	listeners := []struct{ field, addr, port string }{
		{"metricsListen", cfg.MetricsListen, "metrics"},
	}
	if want.proxyOff {
		// The config has no "off" for listen: the proxy stays on the
		// pod's loopback, out of reach without a port.
		if host, _, err := net.SplitHostPort(cfg.Listen); err != nil || !net.ParseIP(host).IsLoopback() {
			t.Errorf("config listen %q; want a loopback address (no port http)", cfg.Listen)
		}
	} else {
		listeners = append(listeners, struct{ field, addr, port string }{"listen", cfg.Listen, "http"})
	}
	if want.picker {
		listeners = append(listeners,
			struct{ field, addr, port string }{"extProc.listen", extProcListen, "grpc"},
			struct{ field, addr, port string }{"extProc.healthListen", extProcHealth, "grpc-health"})
	} else if extProcListen != "" && extProcListen != "off" {
		t.Errorf("config extProc.listen %q without a port grpc", extProcListen)
	}
	for _, l := range listeners {
		if want := ":" + strconv.Itoa(int(ports[l.port].ContainerPort)); l.addr != want {
			t.Errorf("config %s %q; want %q, the container port %q", l.field, l.addr, want, l.port)
		}
	}

	// SIGTERM comes after the preStop pause; the drain must fit before
	// SIGKILL.
	var preStop time.Duration
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	grace := pod.Spec.TerminationGracePeriodSeconds
	if grace == nil || *grace < 30 || time.Duration(*grace)*time.Second < preStop+cfg.Shutdown.GracePeriod.Duration {
		t.Errorf("terminationGracePeriodSeconds %v; want >= 30 and >= preStop %v + shutdown.gracePeriod %v", grace, preStop, cfg.Shutdown.GracePeriod.Duration)
	}

	svc := asTyped[corev1.Service](t, m.get(t, "Service", want.namespace, want.name))
	if svc.Labels["app"] != gatewayPodLabel {
		t.Errorf("Service label app=%q; want %q (the ServiceMonitor selects it)", svc.Labels["app"], gatewayPodLabel)
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) || len(svc.Spec.Selector) == 0 {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, pod.Labels)
	}
	svcPorts := map[string]corev1.ServicePort{}
	for _, p := range svc.Spec.Ports {
		svcPorts[p.Name] = p
	}
	wantSvc := map[string]int32{"metrics": 9090}
	if !want.proxyOff {
		wantSvc["http"] = 8080
	}
	if want.picker {
		wantSvc["grpc"] = 9002
		// The port an InferencePool's endpointPickerRef names: its
		// appProtocol tells the data plane to speak gRPC.
		if ap := svcPorts["grpc"].AppProtocol; ap == nil || (*ap != "grpc" && *ap != "kubernetes.io/h2c") {
			t.Errorf("Service port grpc appProtocol %v; want grpc (TLS) or kubernetes.io/h2c", ap)
		}
	}
	for name, number := range wantSvc {
		if p := svcPorts[name]; p.Port != number || p.TargetPort != intstr.FromString(name) {
			t.Errorf("Service port %q = %+v; want %d to the container port %q", name, p, number, name)
		}
	}
	if len(svcPorts) != len(wantSvc) {
		t.Errorf("Service ports %v; want exactly %v", svc.Spec.Ports, wantSvc)
	}
	return cfg
}

// containerPorts are the named container ports the gateway must have.
func (g deployedGateway) containerPorts() map[string]int32 {
	p := map[string]int32{"metrics": 9090}
	if !g.proxyOff {
		p["http"] = 8080
	}
	if g.picker {
		p["grpc"] = 9002
		p["grpc-health"] = 9003
	}
	return p
}

// checkGRPCProbe checks a kubelet gRPC probe of health service on port
// 9003, the plaintext gRPC health listener (gRPC probes take a number, not
// a port name).
func checkGRPCProbe(t *testing.T, kind string, p *corev1.Probe, service string) {
	t.Helper()
	if p == nil || p.GRPC == nil {
		t.Errorf("%s probe %+v; want gRPC health service %s on port 9003", kind, p, service)
		return
	}
	if p.GRPC.Port != 9003 || p.GRPC.Service == nil || *p.GRPC.Service != service {
		t.Errorf("%s probe gRPC port %d service %v; want 9003 service %s", kind, p.GRPC.Port, p.GRPC.Service, service)
	}
}

// checkDeployedProbe checks an HTTP probe of path on the container port named
// metrics (where /healthz and /readyz need no token) with scheme (an unset
// scheme is HTTP).
func checkDeployedProbe(t *testing.T, kind string, p *corev1.Probe, path string, scheme corev1.URIScheme) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s probe %+v; want HTTP GET %s on port metrics", kind, p, path)
		return
	}
	if p.HTTPGet.Path != path || p.HTTPGet.Port != intstr.FromString("metrics") {
		t.Errorf("%s probe GET %s port %s; want %s port metrics", kind, p.HTTPGet.Path, p.HTTPGet.Port.String(), path)
	}
	got := p.HTTPGet.Scheme
	if got == "" {
		got = corev1.URISchemeHTTP
	}
	if got != scheme {
		t.Errorf("%s probe scheme %s; want %s", kind, got, scheme)
	}
}

// checkSecretFile checks that the file the config field names is key of
// Secret secret, mounted read-only as a whole directory: with subPath the
// kubelet's update of a renewed Secret would never reach the container.
func checkSecretFile(t *testing.T, pod corev1.PodSpec, c corev1.Container, field, file, secret, key string) {
	t.Helper()
	dir, base := path.Split(file)
	dir = strings.TrimSuffix(dir, "/")
	mi := slices.IndexFunc(c.VolumeMounts, func(v corev1.VolumeMount) bool { return v.MountPath == dir })
	if mi < 0 {
		t.Errorf("config %s %q: nothing mounted at %s", field, file, dir)
		return
	}
	m := c.VolumeMounts[mi]
	if !m.ReadOnly || m.SubPath != "" || m.SubPathExpr != "" {
		t.Errorf("mount %q at %s: readOnly=%v subPath=%q subPathExpr=%q; want a read-only directory mount", m.Name, dir, m.ReadOnly, m.SubPath, m.SubPathExpr)
	}
	vi := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
	if vi < 0 || pod.Volumes[vi].Secret == nil || pod.Volumes[vi].Secret.SecretName != secret {
		t.Errorf("config %s %q: volume %q mounted at %s is not Secret %s", field, file, m.Name, dir, secret)
		return
	}
	items := pod.Volumes[vi].Secret.Items
	if len(items) == 0 {
		if base != key {
			t.Errorf("config %s %q: Secret %s has no key %s", field, file, secret, base)
		}
		return
	}
	if !slices.ContainsFunc(items, func(i corev1.KeyToPath) bool { return i.Key == key && i.Path == base }) {
		t.Errorf("config %s %q: Secret volume %q projects %+v; want key %s at %s", field, file, m.Name, items, key, base)
	}
}

// checkDeployedSecurity checks the effective security context of a container.
func checkDeployedSecurity(t *testing.T, pod *corev1.PodSecurityContext, c *corev1.SecurityContext) {
	t.Helper()
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	if c == nil {
		t.Error("container has no securityContext")
		return
	}
	nonRoot := c.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = pod.RunAsNonRoot
	}
	user := c.RunAsUser
	if user == nil {
		user = pod.RunAsUser
	}
	seccomp := c.SeccompProfile
	if seccomp == nil {
		seccomp = pod.SeccompProfile
	}
	switch {
	case nonRoot == nil || !*nonRoot:
		t.Error("runAsNonRoot is not true")
	case user == nil || *user == 0:
		t.Errorf("runAsUser %v; want a non-root UID", user)
	case c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation:
		t.Error("allowPrivilegeEscalation is not false")
	case c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem:
		t.Error("readOnlyRootFilesystem is not true")
	case c.Capabilities == nil || !slices.Contains(c.Capabilities.Drop, "ALL") || len(c.Capabilities.Add) > 0:
		t.Errorf("capabilities %+v; want drop ALL, add none", c.Capabilities)
	case seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("seccompProfile %+v; want RuntimeDefault", seccomp)
	}
}

// checkDeployedEnv checks that env sets each variable of want from the
// pod field it names.
func checkDeployedEnv(t *testing.T, env []corev1.EnvVar, want map[string]string) {
	t.Helper()
	for name, field := range want {
		i := slices.IndexFunc(env, func(e corev1.EnvVar) bool { return e.Name == name })
		if i < 0 || env[i].ValueFrom == nil || env[i].ValueFrom.FieldRef == nil || env[i].ValueFrom.FieldRef.FieldPath != field {
			t.Errorf("env %s: want it from the downward API field %s", name, field)
		}
	}
}

// deployedConfig finds the ConfigMap mounted where the container reads its
// config and parses the file with the gateway's own parser.
func deployedConfig(t *testing.T, m objectList, namespace string, pod corev1.PodSpec, c corev1.Container) *config.Config {
	t.Helper()
	data := deployedConfigFile(t, m, namespace, pod, c)
	cfg, err := config.Parse([]byte(data))
	if err != nil {
		t.Fatalf("the gateway rejects its config file:\n%s\n%v", data, err)
	}
	return cfg
}

// deployedRawConfig is the deployed config file as a generic map, for
// checks of keys by their spelling in the file.
func deployedRawConfig(t *testing.T, m objectList, namespace string, pod corev1.PodSpec, c corev1.Container) map[string]any {
	t.Helper()
	var raw map[string]any
	if err := sigsyaml.Unmarshal([]byte(deployedConfigFile(t, m, namespace, pod, c)), &raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// deployedConfigFile returns the text of the config file the container
// reads, from the ConfigMap mounted there.
func deployedConfigFile(t *testing.T, m objectList, namespace string, pod corev1.PodSpec, c corev1.Container) string {
	t.Helper()
	dir, file := gatewayConfigPath[:strings.LastIndex(gatewayConfigPath, "/")], gatewayConfigPath[strings.LastIndex(gatewayConfigPath, "/")+1:]
	mi := slices.IndexFunc(c.VolumeMounts, func(v corev1.VolumeMount) bool { return v.MountPath == dir })
	if mi < 0 {
		t.Fatalf("nothing mounted at %s", dir)
	}
	vi := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == c.VolumeMounts[mi].Name })
	if vi < 0 || pod.Volumes[vi].ConfigMap == nil {
		t.Fatalf("volume %q mounted at %s is not a ConfigMap", c.VolumeMounts[mi].Name, dir)
	}
	cm := asTyped[corev1.ConfigMap](t, m.get(t, "ConfigMap", namespace, pod.Volumes[vi].ConfigMap.Name))
	data, ok := cm.Data[file]
	if !ok {
		t.Fatalf("ConfigMap %s has no %s", cm.Name, file)
	}
	return data
}

// deployedGatewayAccess is what the gateway's ServiceAccount in namespace ns may
// and may not do: review tokens and access, watch its pools, their pods and
// routing objects, write pool status and lead; never read Secrets, write
// pools or reach into other namespaces.
func deployedGatewayAccess(ns, other string) []accessCheck {
	const (
		infGroup  = "inference.networking.k8s.io"
		infxGroup = "inference.networking.x-k8s.io"
	)
	return []accessCheck{
		{name: "create tokenreviews", res: resAttrs("create", "authentication.k8s.io", "tokenreviews", ""), allow: true},
		{name: "create subjectaccessreviews", res: resAttrs("create", "authorization.k8s.io", "subjectaccessreviews", ""), allow: true},
		{name: "list pods", res: resAttrs("list", "", "pods", ns), allow: true},
		{name: "watch pods", res: resAttrs("watch", "", "pods", ns), allow: true},
		{name: "get inferencepools", res: resAttrs("get", infGroup, "inferencepools", ns), allow: true},
		{name: "watch inferencepools", res: resAttrs("watch", infGroup, "inferencepools", ns), allow: true},
		{name: "update inferencepools/status", res: resAttrs("update", infGroup, "inferencepools/status", ns), allow: true},
		{name: "patch inferencepools/status", res: resAttrs("patch", infGroup, "inferencepools/status", ns), allow: true},
		{name: "list inferenceobjectives", res: resAttrs("list", infxGroup, "inferenceobjectives", ns), allow: true},
		{name: "watch inferencemodelrewrites", res: resAttrs("watch", infxGroup, "inferencemodelrewrites", ns), allow: true},
		{name: "create leases", res: resAttrs("create", "coordination.k8s.io", "leases", ns), allow: true},
		{name: "update leases", res: resAttrs("update", "coordination.k8s.io", "leases", ns), allow: true},
		{name: "create events", res: resAttrs("create", "", "events", ns), allow: true},
		{name: "create events.k8s.io events", res: resAttrs("create", "events.k8s.io", "events", ns), allow: true},

		{name: "get secrets", res: resAttrs("get", "", "secrets", ns), allow: false},
		{name: "list secrets anywhere", res: resAttrs("list", "", "secrets", ""), allow: false},
		{name: "update inferencepools", res: resAttrs("update", infGroup, "inferencepools", ns), allow: false},
		{name: "delete inferencepools", res: resAttrs("delete", infGroup, "inferencepools", ns), allow: false},
		{name: "create pods", res: resAttrs("create", "", "pods", ns), allow: false},
		{name: "list pods elsewhere", res: resAttrs("list", "", "pods", other), allow: false},
		{name: "watch inferencepools elsewhere", res: resAttrs("watch", infGroup, "inferencepools", other), allow: false},
		{name: "create leases elsewhere", res: resAttrs("create", "coordination.k8s.io", "leases", other), allow: false},
	}
}
