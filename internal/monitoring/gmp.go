package monitoring

// PodMonitoringSpec is the spec shared by GMP's PodMonitoring and
// ClusterPodMonitoring (monitoring.googleapis.com/v1). Only the fields are
// modelled; the rules live in [Validate] and the rendering in
// [ScrapeConfigs].
type PodMonitoringSpec struct {
	// Selector picks the pods to scrape. Required.
	Selector LabelSelector `yaml:"selector"`
	// Endpoints are the ports to scrape on each pod; 1 to 10.
	Endpoints []ScrapeEndpoint `yaml:"endpoints"`
	// TargetLabels adds pod metadata and pod labels to every series.
	TargetLabels TargetLabels `yaml:"targetLabels,omitempty"`
	// Limits caps what one scrape may return.
	Limits *ScrapeLimits `yaml:"limits,omitempty"`
	// FilterRunning, nil or true, drops pods in phase Failed or Succeeded.
	FilterRunning *bool `yaml:"filterRunning,omitempty"`
}

// ScrapeEndpoint is one port of the selected pods to scrape.
type ScrapeEndpoint struct {
	// Port is the container port's name or number. Required.
	Port Port `yaml:"port"`
	// Scheme is http (default) or https.
	Scheme string `yaml:"scheme,omitempty"`
	// Path is the metrics path; default /metrics.
	Path string `yaml:"path,omitempty"`
	// Params are URL query parameters.
	Params map[string][]string `yaml:"params,omitempty"`
	// Interval is a Prometheus duration ("5s", "1m"). Required.
	Interval string `yaml:"interval"`
	// Timeout is a Prometheus duration no longer than Interval; default
	// Interval.
	Timeout string `yaml:"timeout,omitempty"`
	// MetricRelabeling is applied to every scraped series; at most 250
	// rules, which may not touch the protected labels.
	MetricRelabeling []RelabelingRule `yaml:"metricRelabeling,omitempty"`
	// HTTPClientConfig holds the authorization, TLS and proxy settings,
	// inline in the endpoint.
	HTTPClientConfig `yaml:",inline"`
}

// HTTPClientConfig is GMP's inline HTTP client configuration of a scrape
// endpoint. Secrets are references to Kubernetes Secrets, never literals.
type HTTPClientConfig struct {
	Authorization *Authorization `yaml:"authorization,omitempty"`
	BasicAuth     *BasicAuth     `yaml:"basicAuth,omitempty"`
	TLS           *TLS           `yaml:"tls,omitempty"`
	OAuth2        *OAuth2        `yaml:"oauth2,omitempty"`
	ProxyURL      string         `yaml:"proxyUrl,omitempty"`
}

// Authorization sets the Authorization header: Type (default Bearer) and the
// credentials read from a Secret.
type Authorization struct {
	Type        string          `yaml:"type,omitempty"`
	Credentials *SecretSelector `yaml:"credentials,omitempty"`
}

// BasicAuth sets HTTP basic authentication with a password from a Secret.
type BasicAuth struct {
	Username string          `yaml:"username,omitempty"`
	Password *SecretSelector `yaml:"password,omitempty"`
}

// TLS configures TLS to the target; CA, Cert and Key come from Secrets.
type TLS struct {
	ServerName         string          `yaml:"serverName,omitempty"`
	InsecureSkipVerify bool            `yaml:"insecureSkipVerify,omitempty"`
	MinVersion         string          `yaml:"minVersion,omitempty"`
	MaxVersion         string          `yaml:"maxVersion,omitempty"`
	CA                 *SecretSelector `yaml:"ca,omitempty"`
	Cert               *SecretSelector `yaml:"cert,omitempty"`
	Key                *SecretSelector `yaml:"key,omitempty"`
}

// OAuth2 fetches a token with the client-credentials flow.
type OAuth2 struct {
	ClientID       string            `yaml:"clientID,omitempty"`
	ClientSecret   *SecretSelector   `yaml:"clientSecret,omitempty"`
	Scopes         []string          `yaml:"scopes,omitempty"`
	TokenURL       string            `yaml:"tokenURL,omitempty"`
	EndpointParams map[string]string `yaml:"endpointParams,omitempty"`
	TLS            *TLS              `yaml:"tlsConfig,omitempty"`
	ProxyURL       string            `yaml:"proxyUrl,omitempty"`
}

// SecretSelector references a secret value. Secret is the only provider.
type SecretSelector struct {
	Secret *SecretKeySelector `yaml:"secret,omitempty"`
}

// SecretKeySelector names one key of a Kubernetes Secret. Namespace is
// forbidden in a PodMonitoring (the object's own namespace is used) and
// defaults to "default" in a ClusterPodMonitoring.
type SecretKeySelector struct {
	Name      string `yaml:"name"`
	Key       string `yaml:"key"`
	Namespace string `yaml:"namespace,omitempty"`
}

// TargetLabels says which pod metadata and pod labels become series labels.
type TargetLabels struct {
	// Metadata lists metadata labels to add: container, node, pod,
	// top_level_controller_name, top_level_controller_type, and for a
	// ClusterPodMonitoring also namespace. Unset means GMP's default (all
	// but node); an explicit YAML null means none (namespace only).
	Metadata *[]string `yaml:"metadata,omitempty"`
	// FromPod copies pod labels onto series labels; at most 100.
	FromPod []LabelMapping `yaml:"fromPod,omitempty"`

	// metadataNull records an explicit "metadata: null".
	metadataNull bool
}

// LabelMapping copies the pod label From to the series label To (default
// From, sanitized).
type LabelMapping struct {
	From string `yaml:"from"`
	To   string `yaml:"to,omitempty"`
}

// ScrapeLimits caps one scrape; zero means no limit.
type ScrapeLimits struct {
	Samples          uint64 `yaml:"samples,omitempty"`
	Labels           uint64 `yaml:"labels,omitempty"`
	LabelNameLength  uint64 `yaml:"labelNameLength,omitempty"`
	LabelValueLength uint64 `yaml:"labelValueLength,omitempty"`
}

// defaultMetadata returns GMP's CRD default for targetLabels.metadata.
func defaultMetadata(kind string) []string {
	if kind == KindClusterPodMonitoring {
		return []string{"container", "namespace", "pod", "top_level_controller_name", "top_level_controller_type"}
	}
	return []string{"container", "pod", "top_level_controller_name", "top_level_controller_type"}
}

// effectiveMetadata returns the metadata labels GMP adds for a spec of the
// given kind, resolving the unset and explicit-null cases. For a
// PodMonitoring, namespace is always added on top of these.
func (t TargetLabels) effectiveMetadata(kind string) []string {
	switch {
	case t.metadataNull && kind == KindClusterPodMonitoring:
		return []string{"namespace"}
	case t.metadataNull:
		return nil
	case t.Metadata == nil:
		return defaultMetadata(kind)
	default:
		return *t.Metadata
	}
}
