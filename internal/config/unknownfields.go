package config

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// unknownFields walks the top-level mapping of a configuration document
// against the Config type and reports every key that names no field, with
// its path, line and the likely intended key. The strict decoder rejects the
// same keys; this walk exists to report all of them with paths instead of Go
// type names. Aliases are not followed (the decoder checks what they expand
// to), which also keeps the walk linear in the input size.
func unknownFields(root *yaml.Node) []error {
	return walkUnknown(root, reflect.TypeFor[Config](), "")
}

// walkUnknown reports unknown keys in n, which is decoded into a value of
// type t at path.
func walkUnknown(n *yaml.Node, t reflect.Type, path string) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return nil
	}
	var errs []error
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // a type mismatch, reported by the decoder
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			if key.Kind != yaml.ScalarNode || key.ShortTag() == "!!merge" {
				continue
			}
			keyPath := key.Value
			if path != "" {
				keyPath = path + "." + key.Value
			}
			ft, ok := fields[key.Value]
			if !ok {
				errs = append(errs, unknownFieldError(keyPath, key, fields))
				continue
			}
			errs = append(errs, walkUnknown(value, ft, keyPath)...)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, item := range n.Content {
			errs = append(errs, walkUnknown(item, t.Elem(), indexed(path, i))...)
		}
	}
	return errs
}

// unknownFieldError describes an unknown key, suggesting the closest known
// one when it is close enough to be a typo.
func unknownFieldError(path string, key *yaml.Node, fields map[string]reflect.Type) *FieldError {
	problem := fmt.Sprintf("unknown field on line %d", key.Line)
	// Allow about one typo per three characters, and always a case slip.
	best, bestDist := "", max(1, len(key.Value)/3)+1
	for name := range fields {
		d := editDistance(strings.ToLower(key.Value), strings.ToLower(name))
		if d < bestDist || d == bestDist && name < best {
			best, bestDist = name, d
		}
	}
	if best != "" {
		problem += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return &FieldError{Field: path, Problem: problem}
}

// yamlFields maps the YAML keys of struct type t to the types of their
// fields.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

// editDistance returns the Levenshtein distance between a and b, counting
// bytes; it is meant for short keys.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
