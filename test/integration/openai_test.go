package integration

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const baseModel = "meta-llama/Llama-3.1-8B-Instruct"

// fleet is a gateway in front of simulator replicas.
type fleet struct {
	gw   *gatewayProc
	sims []*proc
	addr []string
}

// startFleet starts n simulator replicas (each also given simArgs(i)) and a
// gateway with extra YAML appended to its config.
func startFleet(t *testing.T, n int, simArgs func(i int) []string, extra string) *fleet {
	t.Helper()
	f := &fleet{}
	for i := range n {
		var args []string
		if simArgs != nil {
			args = simArgs(i)
		}
		p, addr := startSim(t, "sim-"+string(rune('a'+i)), args...)
		f.sims = append(f.sims, p)
		f.addr = append(f.addr, addr)
	}
	f.gw = startGateway(t, poolYAML(f.addr...)+extra)
	return f
}

func (f *fleet) client() openai.Client {
	return openai.NewClient(
		option.WithBaseURL(f.gw.URL+"/v1/"),
		option.WithAPIKey("sk-client-key"),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(60*time.Second),
	)
}

const modelsYAML = `
models:
- name: llama
  targets:
  - model: meta-llama/Llama-3.1-8B-Instruct
- name: sql
  targets:
  - model: sql-lora
objectives:
- name: critical
  priority: 10
- name: batch
  priority: -1
`

// adapters are the LoRA adapters of the test fleets.
var adapters = []string{"sql-lora", "chat-lora", "code-lora", "summarize-lora"}

// loraArgs gives replica i two of the adapters (its own, loaded at start,
// and its neighbour's), so every adapter is served by two replicas and not
// by the others.
func loraArgs(i int) []string {
	own, next := adapters[i%len(adapters)], adapters[(i+1)%len(adapters)]
	return []string{"--lora", own + "," + next, "--preload-lora", own, "--time-scale", "20"}
}

// adapterHolders names the replicas (of n) that serve adapter j under loraArgs.
func adapterHolders(j, n int) []string {
	return []string{"sim-" + string(rune('a'+j%n)), "sim-" + string(rune('a'+(j-1+n)%n))}
}

func TestOpenAISDK(t *testing.T) {
	f := startFleet(t, 2, loraArgs, modelsYAML)
	client := f.client()
	ctx := testContext(t, 2*time.Minute)

	t.Run("chat", func(t *testing.T) {
		var raw *http.Response
		resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:     "llama",
			Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello.")},
			MaxTokens: openai.Int(12),
		}, option.WithResponseInto(&raw))
		if err != nil {
			t.Fatalf("chat: %v", err)
		}
		if len(resp.Choices) != 1 || resp.Choices[0].Message.Content == "" {
			t.Fatalf("chat: want one non-empty choice, got %+v", resp.Choices)
		}
		if resp.Usage.CompletionTokens != 12 || resp.Usage.PromptTokens <= 0 {
			t.Errorf("chat usage = %+v, want 12 completion tokens and some prompt tokens", resp.Usage)
		}
		if raw.Header.Get("x-inference-pod") == "" || raw.Header.Get("x-request-id") == "" {
			t.Errorf("missing x-inference-pod or x-request-id in %v", raw.Header)
		}
	})

	t.Run("chat stream without usage requested", func(t *testing.T) {
		stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:     baseModel,
			Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Count to five.")},
			MaxTokens: openai.Int(8),
		})
		var text strings.Builder
		chunks := 0
		for stream.Next() {
			c := stream.Current()
			chunks++
			if len(c.Choices) == 0 {
				t.Errorf("client received a usage-only chunk it did not ask for: %+v", c.Usage)
			}
			for _, ch := range c.Choices {
				text.WriteString(ch.Delta.Content)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatalf("stream: %v", err)
		}
		if text.Len() == 0 || chunks < 8 {
			t.Fatalf("stream: got %d chunks and %q", chunks, text.String())
		}
	})

	t.Run("chat stream with usage", func(t *testing.T) {
		stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:         "sql",
			Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Select everything.")},
			MaxTokens:     openai.Int(6),
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		})
		var usage openai.CompletionUsage
		for stream.Next() {
			if c := stream.Current(); len(c.Choices) == 0 {
				usage = c.Usage
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatalf("stream: %v", err)
		}
		if usage.CompletionTokens != 6 || usage.PromptTokens <= 0 {
			t.Fatalf("usage chunk = %+v, want 6 completion tokens", usage)
		}
	})

	t.Run("completions", func(t *testing.T) {
		resp, err := client.Completions.New(ctx, openai.CompletionNewParams{
			Model:     openai.CompletionNewParamsModel(baseModel),
			Prompt:    openai.CompletionNewParamsPromptUnion{OfString: openai.String("Once upon a time")},
			MaxTokens: openai.Int(5),
		})
		if err != nil {
			t.Fatalf("completions: %v", err)
		}
		if len(resp.Choices) != 1 || resp.Choices[0].Text == "" || resp.Usage.CompletionTokens != 5 {
			t.Fatalf("completions: %+v", resp)
		}
	})

	t.Run("completions stream", func(t *testing.T) {
		stream := client.Completions.NewStreaming(ctx, openai.CompletionNewParams{
			Model:     openai.CompletionNewParamsModel("code-lora"),
			Prompt:    openai.CompletionNewParamsPromptUnion{OfString: openai.String("func main() {")},
			MaxTokens: openai.Int(4),
		})
		n := 0
		for stream.Next() {
			if len(stream.Current().Choices) == 0 {
				t.Errorf("unrequested usage chunk reached the client")
			}
			n++
		}
		if err := stream.Err(); err != nil || n < 4 {
			t.Fatalf("stream: %d chunks, err %v", n, err)
		}
	})

	t.Run("models", func(t *testing.T) {
		page, err := client.Models.List(ctx)
		if err != nil {
			t.Fatalf("models: %v", err)
		}
		var ids []string
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		for _, want := range []string{"llama", "sql", baseModel, "sql-lora", "chat-lora", "code-lora"} {
			if !slices.Contains(ids, want) {
				t.Errorf("models %v lack %q", ids, want)
			}
		}
	})

	t.Run("unknown model", func(t *testing.T) {
		_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "no-such-model",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		})
		var apiErr *openai.Error
		if !errorsAs(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "model_not_found" {
			t.Fatalf("want 404 model_not_found, got %v", err)
		}
	})

	// Access logs carry routing facts, never prompts or credentials.
	if logs := f.gw.Output(); strings.Contains(logs, "Say hello.") || strings.Contains(logs, "sk-client-key") || !strings.Contains(logs, "request_id=") {
		t.Errorf("gateway logs leak a prompt or key, or lack access logs:\n%.2000s", logs)
	}

	// Token metrics never go blind: the stream without include_usage still
	// produced output-token observations at the gateway.
	// (The gateway records a request just after its last byte, so poll.)
	eventually(t, 5*time.Second, "output tokens observed for all 5 successful requests", func() bool {
		return histCount(scrape(t, f.gw.MetricsURL+"/metrics", f.gw.Token), "inference_objective_output_tokens") == 5
	})
}
