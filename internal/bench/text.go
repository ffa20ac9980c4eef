package bench

import (
	"math/rand/v2"
	"strconv"
)

// bytesPerToken is the simulator's token approximation: four bytes of
// prompt text per token. Generated text is made of four-byte words (a space
// and three letters), so a text of n words is n tokens to the simulator and
// needs no JSON escaping.
const bytesPerToken = 4

const (
	consonants = "bcdfghjklmnprstvwz"
	vowels     = "aeiou"
)

// appendWords appends n pseudo-random four-byte words drawn from rnd.
func appendWords(dst []byte, rnd *rand.Rand, n int) []byte {
	for range n {
		x := rnd.Uint64()
		dst = append(dst, ' ',
			consonants[x%uint64(len(consonants))],
			vowels[(x>>16)%uint64(len(vowels))],
			consonants[(x>>32)%uint64(len(consonants))])
	}
	return dst
}

// message is one chat message whose content needs no JSON escaping.
type message struct {
	role    string
	content []byte
}

// chatBody returns a streaming chat-completion request body that asks for
// exactly maxTokens output tokens and the usage chunk.
func chatBody(model string, maxTokens int, msgs ...message) []byte {
	size := 128 + len(model)
	for _, m := range msgs {
		size += len(m.content) + 40
	}
	b := make([]byte, 0, size)
	b = append(b, `{"model":`...)
	b = strconv.AppendQuote(b, model)
	b = append(b, `,"messages":[`...)
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"role":"`...)
		b = append(b, m.role...)
		b = append(b, `","content":"`...)
		b = append(b, m.content...)
		b = append(b, `"}`...)
	}
	b = append(b, `],"max_tokens":`...)
	b = strconv.AppendInt(b, int64(maxTokens), 10)
	b = append(b, `,"stream":true,"stream_options":{"include_usage":true}}`...)
	return b
}
