package admission

import (
	"errors"
	"math"
	"testing"
)

func TestAdmit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		priority   int
		saturation float64
		want       error
	}{
		{name: "critical, idle", priority: 0, saturation: 0, want: nil},
		{name: "critical, saturated", priority: 0, saturation: 1, want: nil},
		{name: "critical, far over", priority: 5, saturation: 7.5, want: nil},
		{name: "critical, NaN", priority: 0, saturation: math.NaN(), want: nil},
		{name: "sheddable, idle", priority: -1, saturation: 0, want: nil},
		{name: "sheddable, just below", priority: -1, saturation: 0.999, want: nil},
		{name: "sheddable, at threshold", priority: -1, saturation: 1, want: ErrShed},
		{name: "sheddable, over", priority: -10, saturation: 1.5, want: ErrShed},
		{name: "sheddable, infinite", priority: -1, saturation: math.Inf(1), want: ErrShed},
		{name: "sheddable, NaN", priority: -1, saturation: math.NaN(), want: ErrShed},
	}
	c := New()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := c.Admit(tc.priority, tc.saturation); !errors.Is(got, tc.want) || (tc.want == nil) != (got == nil) {
				t.Errorf("Admit(%d, %v) = %v, want %v", tc.priority, tc.saturation, got, tc.want)
			}
		})
	}
}
