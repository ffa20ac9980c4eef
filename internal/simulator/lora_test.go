package simulator

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoRASlots(t *testing.T) {
	// Each op is "+name" (a request for name joins the batch if it can) or
	// "-name" (one such request leaves). The result of a join is "load",
	// "hit" (resident) or "wait".
	tests := []struct {
		name        string
		max         int
		preloaded   []string
		ops         string
		want        string
		wantRunning string
		wantLoaded  []string
	}{
		{
			name:        "load once, then reuse",
			max:         2,
			ops:         "+a +a +b",
			want:        "load hit load",
			wantRunning: "a,b",
			wantLoaded:  []string{"a", "b"},
		},
		{
			name:        "preloaded adapters cost nothing",
			max:         2,
			preloaded:   []string{"a"},
			ops:         "+a +b",
			want:        "hit load",
			wantRunning: "a,b",
			wantLoaded:  []string{"a", "b"},
		},
		{
			name:        "all slots busy with running adapters: wait",
			max:         2,
			ops:         "+a +b +c",
			want:        "load load wait",
			wantRunning: "a,b",
			wantLoaded:  []string{"a", "b"},
		},
		{
			name:        "a slot frees when its last request leaves",
			max:         2,
			ops:         "+a +a +b -a +c -a +c",
			want:        "load hit load wait load",
			wantRunning: "b,c",
			wantLoaded:  []string{"b", "c"},
		},
		{
			name:        "idle resident adapter is reused without a load",
			max:         2,
			ops:         "+a -a +b -b +a",
			want:        "load load hit",
			wantRunning: "a",
			wantLoaded:  []string{"b", "a"},
		},
		{
			name:        "least recently used idle adapter is evicted",
			max:         2,
			ops:         "+a -a +b -b +a -a +c +b",
			want:        "load load hit load load",
			wantRunning: "b,c",
			wantLoaded:  []string{"c", "b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoRASlots(tc.max, tc.preloaded)
			var got []string
			for _, op := range strings.Fields(tc.ops) {
				name := op[1:]
				if op[0] == '-' {
					l.release(name)
					continue
				}
				switch {
				case !l.canAcquire(name):
					got = append(got, "wait")
				case l.acquire(name):
					got = append(got, "load")
				default:
					got = append(got, "hit")
				}
			}
			if diff := cmp.Diff(tc.want, strings.Join(got, " ")); diff != "" {
				t.Errorf("join results (-want +got):\n%s", diff)
			}
			if got := l.runningList(); got != tc.wantRunning {
				t.Errorf("running = %q, want %q", got, tc.wantRunning)
			}
			if diff := cmp.Diff(tc.wantLoaded, l.loaded); diff != "" {
				t.Errorf("loaded (-want +got):\n%s", diff)
			}
		})
	}
}
