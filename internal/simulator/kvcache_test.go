package simulator

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const kvTestBlockSize = 4

// labelHashes returns chained hashes of blocks named by labels, so sequences
// with the same leading labels share leading hashes.
func labelHashes(labels string) []uint64 {
	var out []uint64
	prev := uint64(7)
	for _, l := range strings.Fields(labels) {
		prev = chainHash(prev, []byte(l))
		out = append(out, prev)
	}
	return out
}

// kvOp admits (computes fully and commits) or releases a named sequence.
type kvOp struct {
	release bool
	seq     string
	blocks  string // admit: block labels
}

func admitOp(seq, blocks string) kvOp { return kvOp{seq: seq, blocks: blocks} }
func releaseOp(seq string) kvOp       { return kvOp{release: true, seq: seq} }

func TestKVCache(t *testing.T) {
	tests := []struct {
		name      string
		numBlocks int
		ops       []kvOp
		wantHits  []int  // blocks taken from the cache, per admit
		wantOK    []bool // per admit
		wantUsed  int
		// wantCached maps block labels to the expected cachedBlocks result
		// after all operations.
		wantCached map[string]int
	}{
		{
			name:       "shared prefix hits",
			numBlocks:  8,
			ops:        []kvOp{admitOp("A", "a b c"), releaseOp("A"), admitOp("B", "a b x")},
			wantHits:   []int{0, 2},
			wantOK:     []bool{true, true},
			wantUsed:   3,
			wantCached: map[string]int{"a b c": 3, "a b x": 3, "b": 0},
		},
		{
			name:       "running requests share referenced blocks",
			numBlocks:  8,
			ops:        []kvOp{admitOp("A", "a b c"), admitOp("B", "a b d"), releaseOp("A")},
			wantHits:   []int{0, 2},
			wantOK:     []bool{true, true},
			wantUsed:   3, // a and b still held by B, plus d
			wantCached: map[string]int{"a b c": 3, "a b d": 3},
		},
		{
			name:       "last reference frees shared blocks",
			numBlocks:  8,
			ops:        []kvOp{admitOp("A", "a b c"), admitOp("B", "a b d"), releaseOp("A"), releaseOp("B")},
			wantHits:   []int{0, 2},
			wantOK:     []bool{true, true},
			wantUsed:   0,
			wantCached: map[string]int{"a b c": 3, "a b d": 3},
		},
		{
			name:      "least recently released blocks are evicted first",
			numBlocks: 4,
			ops: []kvOp{
				admitOp("A", "a b"), releaseOp("A"),
				admitOp("B", "c d"), releaseOp("B"),
				admitOp("C", "e f g"),
			},
			wantHits: []int{0, 0, 0},
			wantOK:   []bool{true, true, true},
			wantUsed: 3,
			// A's blocks went first, then B's tail block: only c survives.
			wantCached: map[string]int{"a": 0, "a b": 0, "c": 1, "c d": 1, "e f g": 3},
		},
		{
			name:      "reuse refreshes recency",
			numBlocks: 4,
			ops: []kvOp{
				admitOp("A", "a b"), admitOp("B", "c d"), releaseOp("B"), releaseOp("A"),
				admitOp("C", "e f"),
			},
			wantHits:   []int{0, 0, 0},
			wantOK:     []bool{true, true, true},
			wantUsed:   2,
			wantCached: map[string]int{"a b": 2, "c": 0},
		},
		{
			name:       "failed allocation changes nothing",
			numBlocks:  4,
			ops:        []kvOp{admitOp("A", "a b c"), admitOp("B", "x y")},
			wantHits:   []int{0, 0},
			wantOK:     []bool{true, false},
			wantUsed:   3,
			wantCached: map[string]int{"a b c": 3, "x": 0},
		},
		{
			name:       "fully cached prompt recomputes its last block",
			numBlocks:  8,
			ops:        []kvOp{admitOp("A", "a b"), releaseOp("A"), admitOp("B", "a b")},
			wantHits:   []int{0, 1},
			wantOK:     []bool{true, true},
			wantUsed:   2,
			wantCached: map[string]int{"a b": 2},
		},
		{
			name:       "free cached hits are not counted as free space twice",
			numBlocks:  4,
			ops:        []kvOp{admitOp("A", "a b c"), releaseOp("A"), admitOp("B", "a b x y z")},
			wantHits:   []int{0, 2},
			wantOK:     []bool{true, false},
			wantUsed:   0,
			wantCached: map[string]int{"a b c": 3},
		},
		{
			name:       "cached hits fill the cache exactly",
			numBlocks:  4,
			ops:        []kvOp{admitOp("A", "a b c"), releaseOp("A"), admitOp("B", "a b c d")},
			wantHits:   []int{0, 3},
			wantOK:     []bool{true, true},
			wantUsed:   4,
			wantCached: map[string]int{"a b c d": 4},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newKVCache(tc.numBlocks, kvTestBlockSize)
			seqs := make(map[string]*request)
			var hits []int
			var oks []bool
			for _, op := range tc.ops {
				if op.release {
					c.release(seqs[op.seq])
					continue
				}
				hashes := labelHashes(op.blocks)
				r := &request{hashes: hashes, numTokens: len(hashes) * kvTestBlockSize}
				seqs[op.seq] = r
				hit := c.cachedBlocks(r.hashes[:(r.numTokens-1)/kvTestBlockSize])
				ok := c.allocate(r, hit, r.numTokens)
				hits, oks = append(hits, hit), append(oks, ok)
				if ok {
					r.computed = r.numTokens
					c.commit(r)
				}
			}
			if diff := cmp.Diff(tc.wantHits, hits); diff != "" {
				t.Errorf("hits (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantOK, oks); diff != "" {
				t.Errorf("allocation results (-want +got):\n%s", diff)
			}
			if got := c.usedBlocks(); got != tc.wantUsed {
				t.Errorf("used blocks = %d, want %d", got, tc.wantUsed)
			}
			gotCached := make(map[string]int)
			for labels := range tc.wantCached {
				gotCached[labels] = c.cachedBlocks(labelHashes(labels))
			}
			if diff := cmp.Diff(tc.wantCached, gotCached); diff != "" {
				t.Errorf("cached prefixes (-want +got):\n%s", diff)
			}
			checkFreeQueue(t, c)
		})
	}
}

// checkFreeQueue verifies the free queue's links and count against the
// blocks' reference counts.
func checkFreeQueue(t *testing.T, c *kvCache) {
	t.Helper()
	n := 0
	prev := int32(-1)
	for id := c.head; id >= 0; id = c.blocks[id].next {
		if c.blocks[id].ref != 0 {
			t.Fatalf("block %d is in the free queue with ref %d", id, c.blocks[id].ref)
		}
		if c.blocks[id].prev != prev {
			t.Fatalf("block %d prev = %d, want %d", id, c.blocks[id].prev, prev)
		}
		prev = id
		n++
	}
	if prev != c.tail {
		t.Fatalf("free queue ends at %d, tail = %d", prev, c.tail)
	}
	if n != c.numFree {
		t.Fatalf("free queue holds %d blocks, numFree = %d", n, c.numFree)
	}
	for h, id := range c.table {
		if b := c.blocks[id]; !b.hashed || b.hash != h {
			t.Fatalf("table maps %x to block %d holding %x (hashed %v)", h, id, b.hash, b.hashed)
		}
	}
}
