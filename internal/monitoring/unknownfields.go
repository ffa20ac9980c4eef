package monitoring

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// unknownFields walks n against the Go type t it decodes into and reports
// every mapping key that names no field. The API server prunes such keys
// silently, which is how a mis-indented "authorization:" block ends up as no
// authorization at all. Aliases are not followed, which keeps the walk
// linear in the input size.
func unknownFields(n *yaml.Node, t reflect.Type) []Problem {
	var problems []Problem
	walkUnknown(n, t, "", &problems)
	return problems
}

// walkUnknown appends to problems the unknown keys in n, decoded into a
// value of type t at path.
func walkUnknown(n *yaml.Node, t reflect.Type, path string, problems *[]Problem) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // a type mismatch, which the decoder reports
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			if key.Kind != yaml.ScalarNode || key.ShortTag() == "!!merge" {
				continue
			}
			keyPath := joinPath(path, key.Value)
			ft, ok := fields[key.Value]
			if !ok {
				*problems = append(*problems, Problem{
					Field:   keyPath,
					Message: unknownFieldMessage(key, fields),
				})
				continue
			}
			walkUnknown(value, ft, keyPath, problems)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			walkUnknown(item, t.Elem(), path+"["+strconv.Itoa(i)+"]", problems)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkUnknown(n.Content[i+1], t.Elem(), joinPath(path, n.Content[i].Value), problems)
		}
	}
}

// joinPath appends a key to a dotted field path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// unknownFieldMessage explains an unknown key and suggests the known field it
// most likely meant.
func unknownFieldMessage(key *yaml.Node, fields map[string]reflect.Type) string {
	msg := fmt.Sprintf("unknown field on line %d; the API server prunes it (kubectl at most warns), so it has no effect", key.Line)
	if len(key.Value) > 64 {
		return msg
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestDist := "", max(1, len(key.Value)/3)+1
	for _, name := range names {
		if d := editDistance(strings.ToLower(key.Value), strings.ToLower(name)); d < bestDist {
			best, bestDist = name, d
		}
	}
	switch {
	case best != "":
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	case key.Value == "type" || key.Value == "credentials":
		msg += " (is an authorization: block indented wrongly?)"
	}
	return msg
}

// yamlFields maps the YAML keys of struct type t to their field types,
// flattening ",inline" fields.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range yamlFields(ft) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

// editDistance is the Levenshtein distance between a and b, in bytes.
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
