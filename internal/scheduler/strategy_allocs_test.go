//go:build !race

package scheduler

import "testing"

// TestStrategyPickAllocs extends TestPickAllocs to the baseline strategies:
// with a reused Request, their Pick over 100 endpoints allocates nothing.
func TestStrategyPickAllocs(t *testing.T) {
	for _, st := range Strategies() {
		t.Run(string(st), func(t *testing.T) {
			_, snap, req := benchPool(t)
			cfg := DefaultConfig()
			cfg.Strategy = st
			s := New(cfg, nil)
			if _, err := s.Pick(req, snap, testNow); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(200, func() {
				res, err := s.Pick(req, snap, testNow)
				if err != nil {
					t.Fatal(err)
				}
				s.Commit(req, res.Endpoint)
			})
			if allocs != 0 {
				t.Errorf("Pick+Commit under %s allocated %v times per call, want 0", st, allocs)
			}
		})
	}
}
