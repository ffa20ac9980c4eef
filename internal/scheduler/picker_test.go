package scheduler

import "testing"

func TestMaxScore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		total []float64
		rnd   Rand
		want  int
	}{
		{name: "single", total: []float64{0.3}, rnd: fixedRand(0), want: 0},
		{name: "clear winner", total: []float64{1, 3, 2}, rnd: fixedRand(0), want: 1},
		{name: "tie, rand never replaces: first", total: []float64{2, 1, 2, 2}, rnd: fixedRand(0.999), want: 0},
		{name: "tie, rand always replaces: last", total: []float64{2, 1, 2, 2, 1}, rnd: fixedRand(0), want: 3},
		{name: "near-equal within epsilon is a tie", total: []float64{2, 2 + 1e-12}, rnd: fixedRand(0.999), want: 0},
		{name: "later higher score resets the tie", total: []float64{2, 2, 3}, rnd: fixedRand(0.999), want: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := maxScore(tc.total, tc.rnd); got != tc.want {
				t.Errorf("maxScore = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestMaxScoreUniformTies checks that reservoir sampling spreads picks evenly
// over tied candidates and never picks a lower one.
func TestMaxScoreUniformTies(t *testing.T) {
	t.Parallel()
	total := []float64{5, 1, 5, 5, 0, 5}
	rnd := newSeededRand(7)
	const rounds = 8000
	var counts [6]int
	for range rounds {
		counts[maxScore(total, rnd)]++
	}
	if counts[1] != 0 || counts[4] != 0 {
		t.Fatalf("lower-scored candidates picked: %v", counts)
	}
	for _, i := range []int{0, 2, 3, 5} {
		// Expected 2000 each; 1800..2200 is more than 5 standard deviations.
		if counts[i] < 1800 || counts[i] > 2200 {
			t.Errorf("candidate %d picked %d times of %d, want about %d (counts %v)", i, counts[i], rounds, rounds/4, counts)
		}
	}
}
