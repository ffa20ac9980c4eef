package extproc

import "testing"

// TestBodyClass: a size maps to the smallest class that holds it, and
// beyond the largest class to none.
func TestBodyClass(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		c    int
		size int64
	}{
		{1, 0, 64 << 10},
		{64 << 10, 0, 64 << 10},
		{64<<10 + 1, 1, 128 << 10},
		{220_000, 2, 256 << 10},
		{1 << 20, 4, 1 << 20},
		{1<<20 + 1, bodyClasses, 2 << 20},
	} {
		if c, size := bodyClass(tc.n); c != tc.c || size != tc.size {
			t.Errorf("bodyClass(%d) = %d, %d; want %d, %d", tc.n, c, size, tc.c, tc.size)
		}
	}
}

// TestBodyPoolGet: a buffer holds what was asked for, is empty, and only
// class-sized buffers come back from the pool.
func TestBodyPoolGet(t *testing.T) {
	var p bodyPool
	for _, n := range []int64{1, 220_000, 1 << 20, 3 << 20} {
		bb := p.get(n)
		if len(bb.b) != 0 || int64(cap(bb.b)) < n {
			t.Errorf("get(%d): len %d cap %d", n, len(bb.b), cap(bb.b))
		}
		if n > 1<<20 && int64(cap(bb.b)) != n {
			t.Errorf("get(%d) beyond the classes: cap %d, want exactly %d", n, cap(bb.b), n)
		}
		p.put(bb)
	}
	p.put(&bodyBuf{b: make([]byte, 5, 100_000)}) // not a class size: dropped
	for range 10 {
		if bb := p.get(100_000); cap(bb.b) != 128<<10 || len(bb.b) != 0 {
			t.Fatalf("get(100000): len %d cap %d, want an empty 128 KiB buffer", len(bb.b), cap(bb.b))
		}
	}
}
