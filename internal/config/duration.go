package config

import (
	"encoding/json"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a [time.Duration] written in YAML and JSON as a Go duration
// string such as "50ms", "2s" or "1m30s". Bare numbers (no unit) and negative
// durations are rejected when decoding.
type Duration struct {
	time.Duration
}

// MarshalYAML writes d as a duration string.
func (d Duration) MarshalYAML() (any, error) {
	return d.String(), nil
}

// UnmarshalYAML reads a duration string. Problems are reported as a
// [yaml.TypeError] carrying the line, so they join the decoder's other
// errors.
func (d *Duration) UnmarshalYAML(value *yaml.Node) error {
	if value.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{
			fmt.Sprintf("line %d: want a duration string such as \"50ms\"", value.Line),
		}}
	}
	v, err := parseDuration(value.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", value.Line, err)}}
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes d as a JSON duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a JSON duration string.
func (d *Duration) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"50ms\"", data)
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// parseDuration parses a non-negative Go duration string.
func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want a Go duration such as \"50ms\" or \"2s\"", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return v, nil
}

// positiveDuration reports a problem when d is not > 0.
func positiveDuration(field string, d Duration) []error {
	if d.Duration <= 0 {
		return []error{fieldErrorf(field, "must be > 0, got %s", d)}
	}
	return nil
}
