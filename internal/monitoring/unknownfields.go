package monitoring

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/infergate/infergate/internal/yamlschema"
)

// unknownFields walks n against the Go type t it decodes into and reports
// every mapping key that names no field. The API server prunes such keys
// silently, which is how a mis-indented "authorization:" block ends up as no
// authorization at all.
func unknownFields(n *yaml.Node, t reflect.Type) []Problem {
	var problems []Problem
	for _, u := range yamlschema.UnknownFields(n, t) {
		msg := fmt.Sprintf("unknown field on line %d; the API server prunes it (kubectl at most warns), so it has no effect", u.Line)
		switch {
		case u.Suggestion != "":
			msg += fmt.Sprintf(" (did you mean %q?)", u.Suggestion)
		case u.Key == "type" || u.Key == "credentials":
			msg += " (is an authorization: block indented wrongly?)"
		}
		problems = append(problems, Problem{Field: u.Path, Message: msg})
	}
	return problems
}
