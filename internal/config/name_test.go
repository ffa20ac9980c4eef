package config

import "testing"

func TestNameProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "hub model id", in: "meta-llama/Llama-3.1-8B-Instruct", want: ""},
		{name: "tag and inner space", in: "llama3:8b q4", want: ""},
		{name: "non-ASCII", in: "modèle-ÿ", want: ""},
		{name: "empty", in: "", want: "is required"},
		{name: "invalid UTF-8", in: "m\xff", want: `"m\xff" is not valid UTF-8`},
		{name: "newline", in: "a\nb", want: `"a\nb" contains control characters`},
		{name: "DEL", in: "a\x7f", want: `"a\x7f" contains control characters`},
		{name: "leading space", in: " a", want: `" a" has leading or trailing white space`},
		{name: "trailing no-break space", in: "a\u00a0", want: `"a\u00a0" has leading or trailing white space`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := nameProblem(tc.in); got != tc.want {
				t.Errorf("nameProblem(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
