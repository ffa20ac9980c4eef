package monitoring

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"

	"gopkg.in/yaml.v3"
)

// MaxInputBytes is the largest input [Parse] accepts. Monitoring objects are
// a few hundred bytes; the cap keeps a wrong file from being read whole.
const MaxInputBytes = 4 << 20

// Parse reads every YAML document in data (separated by "---") as a
// Kubernetes object. name is used in [Object.Source] and errors. Empty
// documents are skipped; documents of other kinds are returned with neither
// spec set (see [Object.Monitoring]).
//
// Unknown fields (in GMP objects) and values of the wrong type in a
// monitoring object are not errors here: the API server prunes unknown
// fields (kubectl at most warns), so they are kept as problems that
// [Validate] reports. Parse fails only on input that is not YAML, a document
// that is not a mapping, or input larger than [MaxInputBytes].
func Parse(name string, data []byte) ([]Object, error) {
	if len(data) > MaxInputBytes {
		return nil, fmt.Errorf("parse %s: input is %d bytes, more than the %d allowed", name, len(data), MaxInputBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var objs []Object
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: document %d: %w", name, doc, err)
		}
		root := &n
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
			root = root.Content[0]
		}
		if root.Kind == 0 || root.ShortTag() == "!!null" || root.Kind == yaml.DocumentNode && len(root.Content) == 0 {
			continue
		}
		if root.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("parse %s: document %d (line %d): not a mapping, so not a Kubernetes object", name, doc, root.Line)
		}
		obj, err := decodeObject(root)
		if err != nil {
			return nil, fmt.Errorf("parse %s: document %d: %w", name, doc, err)
		}
		obj.Source = name + "#" + strconv.Itoa(doc)
		objs = append(objs, obj)
	}
}

// podMonitoringDoc is the document shape walked for unknown fields in GMP
// objects. Metadata and status accept anything: objects read back from a
// cluster carry server-set metadata.
type podMonitoringDoc struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   map[string]any    `yaml:"metadata"`
	Spec       PodMonitoringSpec `yaml:"spec"`
	Status     any               `yaml:"status"`
}

// decodeObject decodes one document's mapping node.
func decodeObject(root *yaml.Node) (Object, error) {
	var obj Object
	var problems []Problem
	if err := decodeInto(root, &obj, &problems); err != nil {
		return Object{}, err
	}
	spec := mappingValue(root, "spec")
	switch obj.Kind {
	case KindPodMonitoring, KindClusterPodMonitoring:
		obj.Pod = &PodMonitoringSpec{}
		if spec != nil {
			if err := decodeInto(spec, obj.Pod, &problems); err != nil {
				return Object{}, err
			}
			if md := mappingValue(mappingValue(spec, "targetLabels"), "metadata"); md != nil && md.ShortTag() == "!!null" {
				obj.Pod.TargetLabels.metadataNull = true
			}
		}
		// GMP's schema is small and fully modelled, so unknown keys are
		// worth reporting.
		problems = append(problems, unknownFields(root, reflect.TypeFor[podMonitoringDoc]())...)
	case KindServiceMonitor:
		// Only the fields a gateway scrape uses are modelled; the rest of
		// prometheus-operator's large schema is not checked for unknown keys.
		obj.Service = &ServiceMonitorSpec{}
		if spec != nil {
			if err := decodeInto(spec, obj.Service, &problems); err != nil {
				return Object{}, err
			}
		}
	default:
		return obj, nil
	}
	obj.decodeProblems = problems
	return obj, nil
}

// decodeInto decodes n into v. Type errors become problems (the decoder
// carries on past them); any other error is returned.
func decodeInto(n *yaml.Node, v any, problems *[]Problem) error {
	err := n.Decode(v)
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, msg := range te.Errors {
			*problems = append(*problems, Problem{Message: msg + " (the API server would reject this value)"})
		}
		return nil
	}
	return err
}

// mappingValue returns the value of key in the mapping n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
