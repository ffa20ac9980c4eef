package prefix

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestAppendHashes(t *testing.T) {
	t.Parallel()
	prompt := bytes.Repeat([]byte("abcdefgh"), 64) // 512 bytes
	tests := []struct {
		name       string
		model      string
		prompt     []byte
		blockBytes int
		maxBlocks  int
		wantLen    int
	}{
		{name: "empty", model: "m", prompt: nil, blockBytes: 64, maxBlocks: 256, wantLen: 0},
		{name: "shorter than a block", model: "m", prompt: prompt[:63], blockBytes: 64, maxBlocks: 256, wantLen: 0},
		{name: "exactly one block", model: "m", prompt: prompt[:64], blockBytes: 64, maxBlocks: 256, wantLen: 1},
		{name: "partial tail ignored", model: "m", prompt: prompt[:200], blockBytes: 64, maxBlocks: 256, wantLen: 3},
		{name: "capped by maxBlocks", model: "m", prompt: prompt, blockBytes: 64, maxBlocks: 5, wantLen: 5},
		{name: "zero block size", model: "m", prompt: prompt, blockBytes: 0, maxBlocks: 5, wantLen: 0},
		{name: "zero max blocks", model: "m", prompt: prompt, blockBytes: 64, maxBlocks: 0, wantLen: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := AppendHashes(nil, tc.model, tc.prompt, tc.blockBytes, tc.maxBlocks)
			if len(got) != tc.wantLen {
				t.Fatalf("len = %d, want %d", len(got), tc.wantLen)
			}
		})
	}
}

func TestAppendHashesChaining(t *testing.T) {
	t.Parallel()
	a := bytes.Repeat([]byte("x"), 256)
	b := bytes.Clone(a)
	b[100] = 'y' // differs in block 1 (bytes 64..127)
	ha := AppendHashes(nil, "m", a, 64, 256)
	hb := AppendHashes(nil, "m", b, 64, 256)
	if ha[0] != hb[0] {
		t.Error("block 0 differs although the first 64 bytes are equal")
	}
	for i := 1; i < 4; i++ {
		if ha[i] == hb[i] {
			t.Errorf("block %d equal although block 1 differs (hash must chain)", i)
		}
	}
	// Identical chunks at different positions hash differently.
	if ha[0] == ha[1] {
		t.Error("equal chunks at blocks 0 and 1 share a hash")
	}
	// The model seeds the chain.
	hc := AppendHashes(nil, "other-model", a, 64, 256)
	if ha[0] == hc[0] {
		t.Error("different models share block 0 hash")
	}
}

func TestAppendHashesAppends(t *testing.T) {
	t.Parallel()
	p := bytes.Repeat([]byte("z"), 128)
	got := AppendHashes([]uint64{42}, "m", p, 64, 256)
	want := append([]uint64{42}, AppendHashes(nil, "m", p, 64, 256)...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AppendHashes did not append (-want +got):\n%s", diff)
	}
}

func TestAppendHashesNoAllocWithCapacity(t *testing.T) {
	p := bytes.Repeat([]byte("q"), 4096)
	dst := make([]uint64, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		dst = AppendHashes(dst[:0], "model", p, 64, 256)
	})
	if allocs != 0 {
		t.Errorf("AppendHashes allocated %v times per run with enough capacity", allocs)
	}
}

// FuzzAppendHashes checks that hashing arbitrary bytes never panics, is
// deterministic, yields the documented number of blocks, and that hashing a
// prefix of the input yields a prefix of the hashes.
func FuzzAppendHashes(f *testing.F) {
	f.Add("model", []byte(`{"messages":[{"role":"system","content":"You are helpful."}]}`), uint8(16), uint16(256), uint16(10))
	f.Add("", []byte{}, uint8(0), uint16(0), uint16(0))
	f.Add("m", bytes.Repeat([]byte{0xff}, 1000), uint8(1), uint16(3), uint16(999))
	f.Add("lora-adapter", bytes.Repeat([]byte("ab"), 300), uint8(255), uint16(1), uint16(64))
	f.Fuzz(func(t *testing.T, model string, prompt []byte, blockTokens uint8, maxBlocks uint16, cut uint16) {
		blockBytes := int(blockTokens) * 4
		h1 := AppendHashes(nil, model, prompt, blockBytes, int(maxBlocks))
		h2 := AppendHashes(make([]uint64, 0, 1), model, prompt, blockBytes, int(maxBlocks))
		if diff := cmp.Diff(h1, h2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("not deterministic (-first +second):\n%s", diff)
		}
		want := 0
		if blockBytes > 0 && maxBlocks > 0 {
			want = min(len(prompt)/blockBytes, int(maxBlocks))
		}
		if len(h1) != want {
			t.Fatalf("len = %d, want %d", len(h1), want)
		}
		c := min(int(cut), len(prompt))
		hp := AppendHashes(nil, model, prompt[:c], blockBytes, int(maxBlocks))
		if len(hp) > len(h1) {
			t.Fatalf("prefix yields %d hashes, whole input %d", len(hp), len(h1))
		}
		if diff := cmp.Diff(h1[:len(hp)], hp, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("hashes of a prefix are not a prefix of the hashes (-whole +prefix):\n%s", diff)
		}
	})
}
