package simulator

import (
	"bytes"

	"github.com/cespare/xxhash/v2"
)

// bytesPerToken is the token approximation: one token per four bytes of the
// prompt stream (see the package documentation).
const bytesPerToken = 4

// prompt is the engine's view of a request's input: its approximate token
// count and the chained hashes of its full KV blocks. It is built by the
// HTTP handler, so hashing never runs on the engine goroutine's hot path.
type prompt struct {
	// tokens is the approximate number of prompt tokens (≥ 1).
	tokens int
	// salt seeds the hash chain: the model and adapter name, so that requests
	// for different adapters never share blocks.
	salt uint64
	// hashes holds one chained hash per full block of the prompt.
	hashes []uint64
	// tail holds the prompt bytes after the last full block (fewer than
	// BlockSize tokens' worth), needed to hash blocks that mix prompt and
	// output tokens.
	tail []byte
	// outputSeed selects the filler words of the output.
	outputSeed uint64
}

// newPrompt hashes stream, whose length must be a positive multiple of
// bytesPerToken, into blocks of blockSize tokens. Identical leading bytes give
// identical leading block hashes.
func newPrompt(stream []byte, blockSize int, salt uint64, seed int64) prompt {
	blockBytes := blockSize * bytesPerToken
	full := len(stream) / blockBytes
	hashes := make([]uint64, full)
	prev := salt
	for i := range full {
		prev = chainHash(prev, stream[i*blockBytes:(i+1)*blockBytes])
		hashes[i] = prev
	}
	return prompt{
		tokens:     len(stream) / bytesPerToken,
		salt:       salt,
		hashes:     hashes,
		tail:       bytes.Clone(stream[full*blockBytes:]),
		outputSeed: mix64(uint64(seed) ^ xxhash.Sum64(stream) ^ salt),
	}
}

// hashSalt seeds the block hash chain of one model or adapter.
func hashSalt(model, adapter string) uint64 {
	d := xxhash.New()
	_, _ = d.WriteString(model)
	_, _ = d.Write([]byte{0})
	_, _ = d.WriteString(adapter)
	return d.Sum64()
}

// chainHash returns the hash of one block given the hash of the block before
// it (or the salt for the first block).
func chainHash(prev uint64, block []byte) uint64 {
	var d xxhash.Digest
	d.ResetWithSeed(prev)
	_, _ = d.Write(block)
	return d.Sum64()
}

// mix64 is the splitmix64 finalizer: a cheap, well-distributed bijection.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Filler output: every generated token is one four-byte word (a space and
// three letters), so output text is exactly bytesPerToken bytes per token and
// a later turn that sends the output back as an assistant message hashes to
// the same blocks.
const (
	consonants = "bcdfghjklmnprstvwz"
	vowels     = "aeiou"
)

// appendWord appends output token i of the output selected by seed.
func appendWord(dst []byte, seed uint64, i int) []byte {
	x := mix64(seed + uint64(i)*0x9e3779b97f4a7c15)
	return append(dst, ' ',
		consonants[x%uint64(len(consonants))],
		vowels[(x>>16)%uint64(len(vowels))],
		consonants[(x>>32)%uint64(len(consonants))])
}

// appendBlockBytes appends the bytes of block k of a request whose prompt is
// p, where the block lies at or after the prompt's last full block: the
// prompt tail followed by output words.
func (p *prompt) appendBlockBytes(dst []byte, k, blockSize int) []byte {
	first := k * blockSize
	full := len(p.hashes)
	for t := first; t < first+blockSize; t++ {
		if t < p.tokens {
			off := (t - full*blockSize) * bytesPerToken
			dst = append(dst, p.tail[off:off+bytesPerToken]...)
			continue
		}
		dst = appendWord(dst, p.outputSeed, t-p.tokens)
	}
	return dst
}
