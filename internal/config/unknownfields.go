package config

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/infergate/infergate/internal/yamlschema"
)

// unknownFields walks the top-level mapping of a configuration document
// against the Config type and reports every key that names no field, with
// its path, line and the likely intended key. The strict decoder rejects the
// same keys; this walk exists to report all of them with paths instead of Go
// type names.
func unknownFields(root *yaml.Node) []error {
	var errs []error
	for _, u := range yamlschema.UnknownFields(root, reflect.TypeFor[Config]()) {
		problem := fmt.Sprintf("unknown field on line %d", u.Line)
		if u.Suggestion != "" {
			problem += fmt.Sprintf(" (did you mean %q?)", u.Suggestion)
		}
		errs = append(errs, &FieldError{Field: u.Path, Problem: problem})
	}
	return errs
}
