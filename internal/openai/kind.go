package openai

// Kind is the OpenAI endpoint a request was sent to. It decides which body
// member carries the prompt and which members are required.
type Kind int

// Kinds of request, by URL path.
const (
	// KindOther is any path this package does not know; only "model" is required.
	KindOther Kind = iota
	// KindCompletions is POST /v1/completions; "prompt" is required.
	KindCompletions
	// KindChatCompletions is POST /v1/chat/completions; a non-empty "messages" array is required.
	KindChatCompletions
	// KindEmbeddings is POST /v1/embeddings; "input" is required.
	KindEmbeddings
)

// KindFromPath returns the Kind for an exact URL path such as
// "/v1/chat/completions". Any other path, including one with a trailing
// slash, is KindOther.
func KindFromPath(path string) Kind {
	switch path {
	case "/v1/completions":
		return KindCompletions
	case "/v1/chat/completions":
		return KindChatCompletions
	case "/v1/embeddings":
		return KindEmbeddings
	default:
		return KindOther
	}
}

// String returns a short lowercase name for k, suitable as a metric label
// value: "completions", "chat_completions", "embeddings" or "other".
func (k Kind) String() string {
	switch k {
	case KindCompletions:
		return "completions"
	case KindChatCompletions:
		return "chat_completions"
	case KindEmbeddings:
		return "embeddings"
	default:
		return "other"
	}
}

// promptKey returns the body member holding the prompt for k, or "" for KindOther.
func (k Kind) promptKey() string {
	switch k {
	case KindCompletions:
		return "prompt"
	case KindChatCompletions:
		return "messages"
	case KindEmbeddings:
		return "input"
	default:
		return ""
	}
}
