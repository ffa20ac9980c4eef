package scheduler

// tieEpsilon is how close two totals must be to count as a tie.
const tieEpsilon = 1e-9

// maxScore returns the index of the highest total (total must be
// non-empty), breaking ties uniformly at random by reservoir sampling: the
// k-th tied candidate seen replaces the current pick with probability 1/k,
// so each of m tied candidates wins with probability 1/m, in one pass,
// without sorting, shuffling or extra memory. rnd is consulted only when
// there is a tie.
func maxScore(total []float64, rnd Rand) int {
	best, ties := 0, 1
	for i := 1; i < len(total); i++ {
		d := total[i] - total[best]
		switch {
		case d > tieEpsilon:
			best, ties = i, 1
		case d >= -tieEpsilon:
			ties++
			if rnd.Float64()*float64(ties) < 1 {
				best = i
			}
		}
	}
	return best
}
