package kubeauth

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTTLCache(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type op struct {
		add     bool
		key     string
		val     int
		expires time.Duration // from t0, for add
		at      time.Duration // from t0, for get
		wantVal int
		wantOK  bool
	}
	tests := []struct {
		name    string
		limit   int
		ops     []op
		wantLen int
	}{
		{
			name:  "expires at the deadline",
			limit: 4,
			ops: []op{
				{add: true, key: "a", val: 1, expires: time.Minute},
				{key: "a", at: time.Minute - 1, wantVal: 1, wantOK: true},
				{key: "a", at: time.Minute},
				{key: "a", at: 0}, // an expired entry is gone, not revived
			},
			wantLen: 0,
		},
		{
			name:  "least recently used evicted first",
			limit: 2,
			ops: []op{
				{add: true, key: "a", val: 1, expires: time.Hour},
				{add: true, key: "b", val: 2, expires: time.Hour},
				{key: "a", wantVal: 1, wantOK: true}, // a is now more recent than b
				{add: true, key: "c", val: 3, expires: time.Hour},
				{key: "b"},
				{key: "a", wantVal: 1, wantOK: true},
				{key: "c", wantVal: 3, wantOK: true},
			},
			wantLen: 2,
		},
		{
			name:  "replacing updates value and expiry without growing",
			limit: 2,
			ops: []op{
				{add: true, key: "a", val: 1, expires: time.Second},
				{add: true, key: "a", val: 2, expires: time.Hour},
				{key: "a", at: time.Minute, wantVal: 2, wantOK: true},
			},
			wantLen: 1,
		},
		{
			name:  "limit of one",
			limit: 1,
			ops: []op{
				{add: true, key: "a", val: 1, expires: time.Hour},
				{add: true, key: "b", val: 2, expires: time.Hour},
				{key: "a"},
				{key: "b", wantVal: 2, wantOK: true},
			},
			wantLen: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newTTLCache[string, int](tc.limit)
			for i, o := range tc.ops {
				if o.add {
					c.add(o.key, o.val, t0.Add(o.expires))
					continue
				}
				v, ok := c.get(o.key, t0.Add(o.at))
				if diff := cmp.Diff([]any{o.wantVal, o.wantOK}, []any{v, ok}); diff != "" {
					t.Errorf("op %d: get(%q) (-want +got):\n%s", i, o.key, diff)
				}
			}
			if got := c.len(); got != tc.wantLen {
				t.Errorf("len %d; want %d", got, tc.wantLen)
			}
		})
	}
}

func TestTokenCacheBounded(t *testing.T) {
	tokens := &fakeTokens{respond: tokenTable(nil)}
	d, _ := newTestDelegate(t, tokens, &fakeAccess{}, Options{CacheSize: 8})
	for i := range 100 {
		_, _ = d.Authenticate(t.Context(), "garbage-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	if got := d.tokenCache.len(); got != 8 {
		t.Errorf("token cache holds %d entries; want the limit 8", got)
	}
}
