package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// loadInterval is the gap between background requests (about 4 per second).
const loadInterval = 250 * time.Millisecond

// loadConcurrency bounds the background requests in flight.
const loadConcurrency = 8

// systemPrompts are long shared prefixes, so prefix-cache routing shows up in
// the metrics.
var systemPrompts = []string{
	strings.Repeat("You are a careful SQL assistant. Answer with one query and a short explanation. ", 40),
	strings.Repeat("You are a support agent for a cloud storage product. Be brief and friendly. ", 40),
	strings.Repeat("You summarize engineering documents into three bullet points. ", 40),
}

// runLoad sends light, varied traffic to the gateway until ctx is done, and
// waits for its requests to finish before returning.
func runLoad(ctx context.Context, baseURL string, log *slog.Logger) {
	client := &http.Client{Timeout: 2 * time.Minute}
	rnd := rand.New(rand.NewPCG(1, 2))
	sem := make(chan struct{}, loadConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(loadInterval)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue // the gateway is slower than the load; skip a beat
		}
		body, objective := loadRequest(rnd, i)
		wg.Go(func() {
			defer func() { <-sem }()
			if err := send(ctx, client, baseURL, body, objective); err != nil && ctx.Err() == nil {
				log.Debug("demo load request failed", "err", err)
			}
		})
	}
}

// loadRequest builds the i-th request body and its objective header.
func loadRequest(rnd *rand.Rand, i int) ([]byte, string) {
	models := []string{"llama", BaseModel, "sql-lora", "code-lora", "chat-lora"}
	objectives := []string{"", "critical", "batch"}
	req := map[string]any{
		"model": models[rnd.IntN(len(models))],
		"messages": []map[string]string{
			{"role": "system", "content": systemPrompts[rnd.IntN(len(systemPrompts))]},
			{"role": "user", "content": fmt.Sprintf("Question number %d: what should I check first?", i)},
		},
		"max_tokens": 16 + rnd.IntN(48),
		"stream":     rnd.IntN(3) == 0,
	}
	b, _ := json.Marshal(req)
	return b, objectives[rnd.IntN(len(objectives))]
}

func send(ctx context.Context, client *http.Client, baseURL string, body []byte, objective string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if objective != "" {
		req.Header.Set("x-gateway-inference-objective", objective)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
