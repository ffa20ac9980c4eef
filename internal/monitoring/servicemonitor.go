package monitoring

// ServiceMonitorSpec is the part of prometheus-operator's ServiceMonitor
// (monitoring.coreos.com/v1) that a gateway scrape uses.
type ServiceMonitorSpec struct {
	// JobLabel names the Service label whose value becomes the job label.
	JobLabel string `yaml:"jobLabel,omitempty"`
	// Selector picks the Services. Required.
	Selector LabelSelector `yaml:"selector"`
	// NamespaceSelector picks their namespaces; default the ServiceMonitor's.
	NamespaceSelector *NamespaceSelector `yaml:"namespaceSelector,omitempty"`
	// Endpoints are the Service ports to scrape. Required.
	Endpoints []ServiceEndpoint `yaml:"endpoints"`
	// TargetLabels and PodTargetLabels copy Service and pod labels.
	TargetLabels    []string `yaml:"targetLabels,omitempty"`
	PodTargetLabels []string `yaml:"podTargetLabels,omitempty"`
	// SampleLimit caps one scrape's samples.
	SampleLimit uint64 `yaml:"sampleLimit,omitempty"`
}

// NamespaceSelector is prometheus-operator's namespace choice.
type NamespaceSelector struct {
	Any        bool     `yaml:"any,omitempty"`
	MatchNames []string `yaml:"matchNames,omitempty"`
}

// ServiceEndpoint is one scraped Service port.
type ServiceEndpoint struct {
	// Port is the Service port's name; TargetPort the pod port.
	Port       string `yaml:"port,omitempty"`
	TargetPort *Port  `yaml:"targetPort,omitempty"`
	Scheme     string `yaml:"scheme,omitempty"`
	Path       string `yaml:"path,omitempty"`
	// Interval and ScrapeTimeout are Prometheus durations.
	Interval      string `yaml:"interval,omitempty"`
	ScrapeTimeout string `yaml:"scrapeTimeout,omitempty"`
	// Authorization reads the credentials from a Secret in the
	// ServiceMonitor's namespace.
	Authorization *OperatorAuthorization `yaml:"authorization,omitempty"`
	// BearerTokenSecret is the deprecated form of Authorization.
	BearerTokenSecret *OperatorSecretKey `yaml:"bearerTokenSecret,omitempty"`
	// BearerTokenFile is deprecated and refused by recent operators.
	BearerTokenFile   string           `yaml:"bearerTokenFile,omitempty"`
	HonorLabels       bool             `yaml:"honorLabels,omitempty"`
	Relabelings       []RelabelingRule `yaml:"relabelings,omitempty"`
	MetricRelabelings []RelabelingRule `yaml:"metricRelabelings,omitempty"`
}

// OperatorAuthorization is prometheus-operator's SafeAuthorization.
type OperatorAuthorization struct {
	Type        string             `yaml:"type,omitempty"`
	Credentials *OperatorSecretKey `yaml:"credentials,omitempty"`
}

// OperatorSecretKey is a core/v1 SecretKeySelector: a key of a Secret in the
// referring object's namespace.
type OperatorSecretKey struct {
	Name     string `yaml:"name"`
	Key      string `yaml:"key"`
	Optional *bool  `yaml:"optional,omitempty"`
}
