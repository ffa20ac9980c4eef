package config

import "fmt"

// FieldError is one configuration problem: the path of the offending field in
// YAML key names (for example "pools[0].endpoints[1].address") and what is
// wrong with it. [Config.Validate] and [Parse] return FieldErrors joined with
// errors.Join; use errors.As to inspect them.
type FieldError struct {
	// Field is the path of the field, in YAML key names with [i] indexes.
	Field string
	// Problem describes what is wrong, without the path.
	Problem string
}

// Error returns "field: problem".
func (e *FieldError) Error() string {
	return e.Field + ": " + e.Problem
}

// fieldErrorf builds a *FieldError for field with a formatted problem.
func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// indexed returns path[i].
func indexed(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
