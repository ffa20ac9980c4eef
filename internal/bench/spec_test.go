package bench

import (
	"strings"
	"testing"
)

func TestBuiltinSuitesParse(t *testing.T) {
	t.Parallel()
	names := SuiteNames()
	for _, want := range []string{"standard", "overhead", "smoke"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("built-in suites %v lack %q", names, want)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := BuiltinSuite(name)
			if err != nil {
				t.Fatal(err)
			}
			s, err := ParseSuite(data)
			if err != nil {
				t.Fatalf("ParseSuite: %v", err)
			}
			if s.Name != name {
				t.Errorf("suite file %s.yaml is named %q", name, s.Name)
			}
		})
	}
	if _, err := BuiltinSuite("nope"); err == nil {
		t.Error("BuiltinSuite(nope) = nil error")
	}
}

func TestParseSuiteErrors(t *testing.T) {
	t.Parallel()
	const head = "name: s\n"
	const sp = "workload: {type: shared-prefix, sharedPrefix: {groups: 2, promptsPerGroup: 2, systemPromptTokens: 64, questionTokens: 8, outputTokens: 4}}\n"
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error
	}{
		{name: "no scenarios", yaml: head, want: []string{"at least one scenario"}},
		{name: "unknown field", yaml: head + "scenarioz: []\n", want: []string{"scenarioz"}},
		{
			name: "bad scenario",
			yaml: head + `scenarios:
  - name: a
    kind: other
    strategies: [default, fastest, direct]
    fleet: {replicas: 100, profile: tpu}
    workload: {type: lora, requests: 0, lora: {zipfS: 1}}
    arrival: {type: poisson}
    targets:
      - {metric: speed, strategy: default}
      - {metric: ttft_p90, baseline: random, max: 1, min: 0}
`,
			want: []string{
				`kind must be "routing" or "overhead"`,
				`unknown strategy "fastest"`,
				`"direct" is only for overhead`,
				"fleet.replicas must be 1..64",
				`fleet.profile must be`,
				"requests must be positive",
				"zipfS must be > 1",
				"needs fleet.adapters",
				"rate must be positive",
				`unknown metric "speed"`,
				"set exactly one of max and min",
				`baseline "random" is not run`,
			},
		},
		{
			name: "duplicate names and sweep point",
			yaml: head + "scenarios:\n  - {name: a, " + strings.TrimSuffix(sp, "\n") + ", arrival: {type: poisson, sweep: [1, 2]}, targets: [{metric: ttft_p90, max: 1, point: 3}]}\n  - {name: a, " + strings.TrimSuffix(sp, "\n") + ", arrival: {type: concurrency, sweep: [1.5]}}\n",
			want: []string{"point 3 is not a sweep point", `name "a" is used twice`, "not a whole number"},
		},
		{name: "bad duration", yaml: head + "slo: {ttft: soon}\n", want: []string{"soon"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSuite([]byte(tc.yaml))
			if err == nil {
				t.Fatal("ParseSuite = nil error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseSuiteDefaults(t *testing.T) {
	t.Parallel()
	s, err := ParseSuite([]byte(`name: d
scenarios:
  - name: a
    workload: {type: fixed, requests: 1, fixed: {inputTokens: 1, outputTokens: 1}}
    arrival: {type: gamma, rate: 2}
    targets: [{metric: ttft_p90, max: 1}]
`))
	if err != nil {
		t.Fatal(err)
	}
	sc := s.Scenarios[0]
	if s.TimeScale != 10 || s.Model != BaseModel || s.SLO.TTFT.Seconds() != 1 || sc.Kind != KindRouting ||
		len(sc.Strategies) != 4 || sc.Fleet.Replicas != 4 || sc.Fleet.Profile != ProfileH100 ||
		sc.Arrival.Burstiness != 0.5 || sc.Targets[0].Strategy != "default" {
		t.Errorf("defaults not applied: %+v", s)
	}
	if err := s.Select("a"); err != nil {
		t.Errorf("Select(a): %v", err)
	}
	if err := s.Select("b"); err == nil {
		t.Error("Select(b) = nil error")
	}
}
