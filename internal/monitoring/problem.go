package monitoring

import "strings"

// Problem is one thing wrong with a monitoring object: which object, which
// field, and an explanation of the rule and its consequence.
type Problem struct {
	// Object names the object ("ClusterPodMonitoring/name") and, in
	// parentheses, where it was read from.
	Object string
	// Field is the path of the offending field, e.g.
	// "spec.endpoints[0].timeout"; empty for the object as a whole.
	Field string
	// Message says what is wrong and why it matters.
	Message string
}

// String formats the problem on one line: "object: field: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Object)
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}
