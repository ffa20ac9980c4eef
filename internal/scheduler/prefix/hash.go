package prefix

import (
	"encoding/binary"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// AppendHashes appends the chained block hashes of prompt to dst and returns
// the extended slice.
//
// The prompt is cut into consecutive blocks of blockBytes bytes. Only full
// blocks are hashed (a model server only reuses full KV-cache blocks), so an
// input shorter than one block yields no hashes, and at most maxBlocks
// leading blocks are hashed. The chain starts from the xxhash64 of model, and
// block i hashes to xxhash64(chunk_i ‖ little-endian prev), where prev is the
// previous block's hash (the model seed for block 0). Equal hashes at block i
// therefore imply, up to collisions, equal model and equal first i+1 blocks.
//
// AppendHashes is deterministic, never retains prompt, and allocates only
// when dst lacks capacity. blockBytes or maxBlocks below 1 yield no hashes.
func AppendHashes(dst []uint64, model string, prompt []byte, blockBytes, maxBlocks int) []uint64 {
	if blockBytes < 1 || maxBlocks < 1 {
		return dst
	}
	n := min(len(prompt)/blockBytes, maxBlocks)
	if n == 0 {
		return dst
	}
	dst = slices.Grow(dst, n)
	prev := xxhash.Sum64String(model)
	var d xxhash.Digest
	var link [8]byte
	for i := range n {
		d.Reset()
		_, _ = d.Write(prompt[i*blockBytes : (i+1)*blockBytes])
		binary.LittleEndian.PutUint64(link[:], prev)
		_, _ = d.Write(link[:])
		prev = d.Sum64()
		dst = append(dst, prev)
	}
	return dst
}
