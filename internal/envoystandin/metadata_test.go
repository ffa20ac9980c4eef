package envoystandin

import (
	"net/http"
	"strings"
	"testing"
)

func FuzzSubsetFromHeader(f *testing.F) {
	for _, s := range []string{"10.0.0.1:80,10.0.0.2:80", "", " , ,", strings.Repeat("a,", 1100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := &http.Request{Header: http.Header{http.CanonicalHeaderKey(SubsetHeader): {v}}}
		got, ok, err := subsetFromHeader(r)
		if !ok {
			t.Fatal("present header not seen")
		}
		if err != nil {
			return
		}
		if len(got) > maxSubsetEntries {
			t.Fatalf("%d entries", len(got))
		}
		for _, e := range got {
			if e == "" || e != strings.TrimSpace(e) || strings.Contains(e, ",") {
				t.Fatalf("entry %q", e)
			}
		}
		md := subsetMetadata(got)
		if n := len(md.GetFilterMetadata()[SubsetHintNamespace].GetFields()[SubsetHintKey].GetListValue().GetValues()); n != len(got) {
			t.Fatalf("metadata has %d entries, want %d", n, len(got))
		}
	})
}
