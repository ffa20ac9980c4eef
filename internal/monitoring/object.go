package monitoring

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// API versions and kinds of the monitoring objects this package reads.
const (
	// GMPAPIVersion is the API version of Google Cloud Managed Service for
	// Prometheus' PodMonitoring and ClusterPodMonitoring.
	GMPAPIVersion = "monitoring.googleapis.com/v1"
	// OperatorAPIVersion is the API version of prometheus-operator's
	// ServiceMonitor.
	OperatorAPIVersion = "monitoring.coreos.com/v1"

	// KindPodMonitoring is a namespaced GMP object: it scrapes matching pods
	// in its own namespace only.
	KindPodMonitoring = "PodMonitoring"
	// KindClusterPodMonitoring is a cluster-scoped GMP object: it scrapes
	// matching pods in every namespace.
	KindClusterPodMonitoring = "ClusterPodMonitoring"
	// KindServiceMonitor is prometheus-operator's object that scrapes the
	// endpoints behind matching Services.
	KindServiceMonitor = "ServiceMonitor"
)

// Object is one Kubernetes object read from a YAML document. Exactly one of
// Pod and Service is set for a monitoring object; both are nil for any other
// kind (Secrets, RBAC, ...), which [Object.Monitoring] reports.
type Object struct {
	// Source names where the object came from: the file name given to
	// [Parse] and the 1-based document number, e.g. "cpm.yaml#2".
	Source string `yaml:"-"`
	// APIVersion and Kind are the object's type.
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	// Metadata is the object's name, namespace and labels.
	Metadata ObjectMeta `yaml:"metadata"`
	// Pod is the spec of a PodMonitoring or ClusterPodMonitoring.
	Pod *PodMonitoringSpec `yaml:"-"`
	// Service is the spec of a ServiceMonitor.
	Service *ServiceMonitorSpec `yaml:"-"`

	// decodeProblems are what the decoder found: unknown fields and values
	// of the wrong type. Validate reports them first.
	decodeProblems []Problem
}

// ObjectMeta is the subset of Kubernetes object metadata the monitoring
// objects use.
type ObjectMeta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Monitoring reports whether o is a monitoring object this package
// understands (a PodMonitoring, ClusterPodMonitoring or ServiceMonitor).
func (o *Object) Monitoring() bool { return o.Pod != nil || o.Service != nil }

// Namespaced reports whether o is a namespaced object.
func (o *Object) Namespaced() bool { return o.Kind != KindClusterPodMonitoring }

// String names the object as "Kind/name" or "Kind/namespace/name", the way
// GMP names its scrape jobs.
func (o *Object) String() string {
	if o.Namespaced() && o.Metadata.Namespace != "" {
		return o.Kind + "/" + o.Metadata.Namespace + "/" + o.Metadata.Name
	}
	return o.Kind + "/" + o.Metadata.Name
}

// Port is a Kubernetes IntOrString port: a container port's name, or its
// number. The zero value is unset.
type Port struct {
	// Name is the port's name; empty when the port was given as a number.
	Name string
	// Number is the port's number; 0 when the port was given as a name.
	Number int
}

// IsZero reports whether the port is unset.
func (p Port) IsZero() bool { return p.Name == "" && p.Number == 0 }

// String returns the name or the number.
func (p Port) String() string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(p.Number)
}

// UnmarshalYAML reads a port given as a YAML integer or string. A quoted
// number stays a name, as in Kubernetes' IntOrString.
func (p *Port) UnmarshalYAML(n *yaml.Node) error {
	// Type errors are collected by the decoder, which then goes on with the
	// rest of the document.
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: port must be a name or a number", n.Line)}}
	}
	if n.ShortTag() == "!!int" {
		v, err := strconv.ParseInt(n.Value, 0, 32)
		if err != nil {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: port %q is not a 32-bit number", n.Line, n.Value)}}
		}
		*p = Port{Number: int(v)}
		return nil
	}
	*p = Port{Name: n.Value}
	return nil
}

// MarshalYAML writes the port back as a string or integer.
func (p Port) MarshalYAML() (any, error) {
	if p.Name != "" {
		return p.Name, nil
	}
	return p.Number, nil
}

// LabelSelector is Kubernetes' label selector: every matchLabels pair and
// every expression must match.
type LabelSelector struct {
	MatchLabels      map[string]string          `yaml:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `yaml:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one selector expression. Operator is In,
// NotIn, Exists or DoesNotExist; Values is empty for the last two.
type LabelSelectorRequirement struct {
	Key      string   `yaml:"key"`
	Operator string   `yaml:"operator"`
	Values   []string `yaml:"values,omitempty"`
}

// Label selector operators.
const (
	OpIn           = "In"
	OpNotIn        = "NotIn"
	OpExists       = "Exists"
	OpDoesNotExist = "DoesNotExist"
)

// RelabelingRule is one relabeling step, as in GMP's metricRelabeling and
// prometheus-operator's relabelings/metricRelabelings. Action is lower-cased
// before use, as Prometheus does; empty means replace. An empty Replacement
// means Prometheus' default, "$1" (GMP drops empty values the same way).
type RelabelingRule struct {
	SourceLabels []string `yaml:"sourceLabels,omitempty"`
	Separator    string   `yaml:"separator,omitempty"`
	TargetLabel  string   `yaml:"targetLabel,omitempty"`
	Regex        string   `yaml:"regex,omitempty"`
	Modulus      uint64   `yaml:"modulus,omitempty"`
	Replacement  string   `yaml:"replacement,omitempty"`
	Action       string   `yaml:"action,omitempty"`
}
