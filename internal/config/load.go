package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// maxConfigBytes caps the size of a configuration file.
const maxConfigBytes = 4 << 20

// Override changes a decoded configuration before it is validated, as
// command-line flags that take precedence over the file do.
type Override func(*Config)

// Parse decodes a YAML configuration document, applies defaults, then the
// overrides in order (and the defaults again, for what they set), and
// validates the result. Decoding is strict: the input must be one YAML mapping of at
// most 4 MiB; unknown fields are errors (all reported, with path and line);
// apiVersion and kind, when present, must be [APIVersion] and [Kind] (empty
// means those). Validation problems are returned as [Config.Validate] does:
// all at once, each a [*FieldError].
func Parse(data []byte, overrides ...Override) (*Config, error) {
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("config is larger than %d bytes", maxConfigBytes)
	}
	root, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	if err := checkHeader(root); err != nil {
		return nil, err
	}
	if errs := unknownFields(root); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	c.ApplyDefaults()
	for _, o := range overrides {
		o(&c)
	}
	if len(overrides) > 0 {
		c.ApplyDefaults()
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Load reads the configuration file at path and parses it with [Parse] and
// the overrides. Errors are prefixed with the path.
func Load(path string, overrides ...Override) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	c, err := Parse(data, overrides...)
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	return c, nil
}

// LoadOrKubernetesDefaults is [Load] when path is set. With no file (path
// "") the gateway runs in Kubernetes mode on upstream's defaults: [Default]
// with metrics auth by TokenReview ([AuthKubernetes]), then the overrides
// (the flags, which name the InferencePools and enable Kubernetes mode),
// the defaults again for what they set, and [Config.Validate]. Validation
// errors are returned as Validate returns them.
func LoadOrKubernetesDefaults(path string, overrides ...Override) (*Config, error) {
	if path != "" {
		return Load(path, overrides...)
	}
	c := Default()
	c.Metrics.Auth.Mode = AuthKubernetes
	for _, o := range overrides {
		o(c)
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// readFile reads at most maxConfigBytes+1 bytes of the file at path, so an
// oversized or endless file fails in Parse instead of exhausting memory.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
}

// parseDocument decodes data into a node tree and returns the top-level
// mapping, rejecting empty input, non-mappings and multiple documents.
func parseDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("config is empty")
		}
		return nil, fmt.Errorf("parse config: %w", err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, fmt.Errorf("parse config: %w", err)
	case !isNull(documentContent(&extra)):
		// A trailing "---" with nothing after it is not a second document.
		return nil, fmt.Errorf("config has more than one YAML document (the second starts on line %d)", extra.Line)
	}
	root := documentContent(&doc)
	switch {
	case isNull(root):
		return nil, errors.New("config is empty")
	case root.Kind != yaml.MappingNode:
		return nil, fmt.Errorf("config must be a YAML mapping of fields, found %s on line %d", nodeKindName(root), root.Line)
	}
	return root, nil
}

// checkHeader rejects a document whose apiVersion or kind is set to
// something this gateway does not read, before field decoding reports
// confusing errors about a different schema.
func checkHeader(root *yaml.Node) error {
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, value := root.Content[i], root.Content[i+1]
		var want string
		switch key.Value {
		case "apiVersion":
			want = APIVersion
		case "kind":
			want = Kind
		default:
			continue
		}
		// Non-string values are left to the decoder to report.
		if value.Kind != yaml.ScalarNode || value.ShortTag() != "!!str" || value.Value == "" || value.Value == want {
			continue
		}
		errs = append(errs, fieldErrorf(key.Value, "%q is not supported; want %q", value.Value, want))
	}
	return errors.Join(errs...)
}

// documentContent returns the single node a document node wraps, or n
// itself.
func documentContent(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return n.Content[0]
	}
	return n
}

// isNull reports whether n is an empty document or a null scalar.
func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || n.Kind == yaml.DocumentNode && len(n.Content) == 0 ||
		n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// nodeKindName names a node's kind for error messages.
func nodeKindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	default:
		return "a node"
	}
}
