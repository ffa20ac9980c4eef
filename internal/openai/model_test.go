package openai

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseModelList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{
			name: "vLLM with LoRA adapter",
			in: `{"object":"list","data":[{"id":"meta-llama/Llama-3.1-8B-Instruct","object":"model","created":1718000000,` +
				`"owned_by":"vllm","root":"/models/llama","parent":null,"max_model_len":8192,"permission":[{"id":"modelperm-1"}]},` +
				`{"id":"sql-lora","object":"model","created":1718000000,"owned_by":"vllm","root":"/adapters/sql","parent":"meta-llama/Llama-3.1-8B-Instruct"}]}`,
			want: []string{"meta-llama/Llama-3.1-8B-Instruct", "sql-lora"},
		},
		{name: "empty list", in: `{"object":"list","data":[]}`, want: []string{}},
		{name: "empty id skipped", in: `{"data":[{"id":""},{"id":"a"}]}`, want: []string{"a"}},
		{name: "no data", in: `{"object":"error","message":"x"}`, wantErr: true},
		{name: "null data", in: `{"data":null}`, wantErr: true},
		{name: "not JSON", in: `<html>`, wantErr: true},
		{name: "wrong type", in: `{"data":{"id":"a"}}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseModelList([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseModelList error = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseModelList (-want +got):\n%s", diff)
			}
		})
	}
}

func TestModelListJSON(t *testing.T) {
	t.Parallel()
	l := ModelList{Object: "list", Data: []Model{
		{ID: "base", Object: "model", Created: 7, OwnedBy: "infergate"},
		{ID: "lora", Object: "model", Created: 7, OwnedBy: "infergate", Root: "base", Parent: "base"},
	}}
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"object":"list","data":[{"id":"base","object":"model","created":7,"owned_by":"infergate"},` +
		`{"id":"lora","object":"model","created":7,"owned_by":"infergate","root":"base","parent":"base"}]}`
	if string(b) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", b, want)
	}
}

func FuzzParseModelList(f *testing.F) {
	f.Add([]byte(`{"object":"list","data":[{"id":"a","parent":null}]}`))
	f.Add([]byte(`{"data":[{"id":1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ids, err := ParseModelList(b)
		if err != nil && ids != nil {
			t.Fatalf("ids %q returned with error %v", ids, err)
		}
		for _, id := range ids {
			if id == "" {
				t.Fatal("empty id returned")
			}
		}
	})
}
