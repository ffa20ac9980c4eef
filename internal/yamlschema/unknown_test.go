package yamlschema

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

type inner struct {
	Address string `yaml:"address"`
}

type Base struct {
	Kind string `yaml:"kind"`
}

type doc struct {
	Base      `yaml:",inline"`
	Name      string            `yaml:"name"`
	Endpoints []inner           `yaml:"endpoints"`
	ByName    map[string]inner  `yaml:"byName"`
	Labels    map[string]string `yaml:"labels"`
	Skipped   string            `yaml:"-"`
	Untagged  int
}

func TestUnknownFields(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Unknown
	}{
		{name: "all known", in: "kind: a\nname: b\nendpoints:\n- address: x\nuntagged: 1\nlabels: {any: thing}\n"},
		{name: "typo with suggestion", in: "names: b\n", want: []Unknown{{Path: "names", Line: 1, Key: "names", Suggestion: "name"}}},
		{
			name: "nested in sequence and map, all reported",
			in:   "endpoints:\n- adress: x\nbyName:\n  a:\n    addr: y\nskipped: z\n",
			want: []Unknown{
				{Path: "endpoints[0].adress", Line: 2, Key: "adress", Suggestion: "address"},
				{Path: "byName.a.addr", Line: 5, Key: "addr"},
				{Path: "skipped", Line: 6, Key: "skipped"},
			},
		},
		{name: "no suggestion when far", in: "zzzzzz: 1\n", want: []Unknown{{Path: "zzzzzz", Line: 1, Key: "zzzzzz"}}},
		{name: "type mismatch left to the decoder", in: "endpoints: 5\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tc.in), &n); err != nil {
				t.Fatal(err)
			}
			got := UnknownFields(n.Content[0], reflect.TypeFor[doc]())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("UnknownFields (-want +got):\n%s", diff)
			}
		})
	}
}
