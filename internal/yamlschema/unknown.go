// Package yamlschema checks a parsed YAML document against the Go type it
// will be decoded into, reporting every mapping key that names no field, with
// its path, line and the field it most likely meant. yaml.v3's strict decoder
// stops at the first such key and names Go types; this walk reports all of
// them with document paths, which is what a person fixing a file needs.
package yamlschema

import (
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxSuggestKey bounds the key length for which a suggestion is computed, so
// hostile input cannot make the edit-distance search expensive.
const maxSuggestKey = 64

// Unknown is a mapping key that names no field of the type it decodes into.
type Unknown struct {
	// Path is the dotted path of the key, with [i] for sequence items.
	Path string
	// Line is the key's line in the document (1-based).
	Line int
	// Key is the key as written.
	Key string
	// Suggestion is the known key it most likely meant, or "".
	Suggestion string
}

// UnknownFields walks n against type t and returns every unknown key in
// document order. Types that implement yaml.Unmarshaler are not entered;
// aliases and merge keys are not followed (the decoder checks what they
// expand to), which keeps the walk linear in the input size. Keys of
// ",inline" struct fields count as keys of the enclosing struct.
func UnknownFields(n *yaml.Node, t reflect.Type) []Unknown {
	var out []Unknown
	walk(n, t, "", &out)
	return out
}

func walk(n *yaml.Node, t reflect.Type, path string, out *[]Unknown) {
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
		fields := structFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			if key.Kind != yaml.ScalarNode || key.ShortTag() == "!!merge" {
				continue
			}
			keyPath := join(path, key.Value)
			ft, ok := fields[key.Value]
			if !ok {
				*out = append(*out, Unknown{Path: keyPath, Line: key.Line, Key: key.Value, Suggestion: suggest(key.Value, fields)})
				continue
			}
			walk(value, ft, keyPath, out)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			walk(item, t.Elem(), path+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walk(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), out)
		}
	}
}

// join appends a key to a dotted path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest returns the known key closest to key when it is close enough to be
// a typo (about one edit per three characters, and always a case slip); ties
// go to the alphabetically first name.
func suggest(key string, fields map[string]reflect.Type) string {
	if len(key) > maxSuggestKey {
		return ""
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestDist := "", max(1, len(key)/3)+1
	for _, name := range names {
		if d := editDistance(strings.ToLower(key), strings.ToLower(name)); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// structFields maps the YAML keys of struct type t to their field types,
// flattening ",inline" fields. Untagged fields use the lower-cased field
// name, as yaml.v3 does.
func structFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range structFields(ft) {
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
