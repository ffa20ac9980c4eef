package integration

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"
)

// TestStreamCutByDyingReplicaRaisesInSDK kills the replica serving a stream
// mid-way: the official SDK must raise the gateway's in-band error event,
// not see a silent end or a bare transport error. With and without
// include_usage (the gateway holds events back differently).
func TestStreamCutByDyingReplicaRaisesInSDK(t *testing.T) {
	for _, usage := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "include_usage"}[usage], func(t *testing.T) {
			f := startFleet(t, 1, func(int) []string { return []string{"--time-scale", "1"} }, "")
			params := openai.ChatCompletionNewParams{
				Model:     baseModel,
				Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell a long story.")},
				MaxTokens: openai.Int(400),
			}
			if usage {
				params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			}
			client := f.client()
			stream := client.Chat.Completions.NewStreaming(testContext(t, 60*time.Second), params)
			chunks := 0
			for stream.Next() {
				if chunks++; chunks == 3 {
					f.sims[0].Signal(syscall.SIGKILL)
				}
			}
			err := stream.Err()
			var se *ssestream.StreamError
			if !errors.As(err, &se) {
				t.Fatalf("after %d chunks the SDK ended with %v (%T); want a stream error event", chunks, err, err)
			}
			if !strings.Contains(se.Message, `"code":"upstream_error"`) || !strings.Contains(se.Message, `"type":"server_error"`) {
				t.Errorf("stream error %q; want type server_error, code upstream_error", se.Message)
			}
			if chunks < 3 || chunks >= 400 {
				t.Errorf("%d chunks before the error; want the stream cut mid-way", chunks)
			}
		})
	}
}
