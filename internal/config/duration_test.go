package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// durationDoc wraps a Duration the way the config embeds them.
type durationDoc struct {
	D Duration `yaml:"d" json:"d"`
}

func TestDurationRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want time.Duration
		out  string // the canonical form written back
	}{
		{name: "milliseconds", in: "50ms", want: 50 * time.Millisecond, out: "50ms"},
		{name: "seconds", in: "2s", want: 2 * time.Second, out: "2s"},
		{name: "compound", in: "1m30s", want: 90 * time.Second, out: "1m30s"},
		{name: "minutes canonicalised", in: "5m", want: 5 * time.Minute, out: "5m0s"},
		{name: "fractional", in: "1.5s", want: 1500 * time.Millisecond, out: "1.5s"},
		{name: "nanoseconds", in: "1ns", want: time.Nanosecond, out: "1ns"},
		{name: "zero", in: "0", want: 0, out: "0s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var y durationDoc
			if err := yaml.Unmarshal([]byte("d: "+tc.in+"\n"), &y); err != nil {
				t.Fatalf("yaml.Unmarshal: %v", err)
			}
			if y.D.Duration != tc.want {
				t.Errorf("YAML decoded %s, want %s", y.D.Duration, tc.want)
			}
			yout, err := yaml.Marshal(y)
			if err != nil {
				t.Fatalf("yaml.Marshal: %v", err)
			}
			if got, want := string(yout), "d: "+tc.out+"\n"; got != want {
				t.Errorf("yaml.Marshal = %q, want %q", got, want)
			}

			var j durationDoc
			if err := json.Unmarshal([]byte(`{"d":"`+tc.in+`"}`), &j); err != nil {
				t.Fatalf("json.Unmarshal: %v", err)
			}
			if j.D.Duration != tc.want {
				t.Errorf("JSON decoded %s, want %s", j.D.Duration, tc.want)
			}
			jout, err := json.Marshal(j)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			if got, want := string(jout), `{"d":"`+tc.out+`"}`; got != want {
				t.Errorf("json.Marshal = %s, want %s", got, want)
			}
		})
	}
}

func TestDurationRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		yaml     string
		json     string
		wantYAML string
		wantJSON string
	}{
		{
			name: "negative", yaml: "d: -1s", json: `{"d":"-1s"}`,
			wantYAML: `line 1: invalid duration "-1s": must not be negative`,
			wantJSON: `invalid duration "-1s": must not be negative`,
		},
		{
			name: "no unit", yaml: "d: 50", json: `{"d":"50"}`,
			wantYAML: `line 1: invalid duration "50"`,
			wantJSON: `invalid duration "50"`,
		},
		{
			name: "garbage", yaml: "d: soon", json: `{"d":"soon"}`,
			wantYAML: `invalid duration "soon"`,
			wantJSON: `invalid duration "soon"`,
		},
		{
			name: "not a string", yaml: "d: {s: 1}", json: `{"d":50}`,
			wantYAML: `line 1: want a duration string such as "50ms"`,
			wantJSON: `duration 50: want a string such as "50ms"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var y durationDoc
			if err := yaml.Unmarshal([]byte(tc.yaml), &y); err == nil || !strings.Contains(err.Error(), tc.wantYAML) {
				t.Errorf("yaml.Unmarshal(%q) = %v, want an error containing %q", tc.yaml, err, tc.wantYAML)
			}
			var j durationDoc
			if err := json.Unmarshal([]byte(tc.json), &j); err == nil || !strings.Contains(err.Error(), tc.wantJSON) {
				t.Errorf("json.Unmarshal(%s) = %v, want an error containing %q", tc.json, err, tc.wantJSON)
			}
		})
	}
}

func TestDurationNullLeavesDefault(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(minimalYAML + "scrape: {interval: null}\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := c.Scrape.Interval.Duration, 50*time.Millisecond; got != want {
		t.Errorf("scrape.interval = %s, want the default %s", got, want)
	}
}
