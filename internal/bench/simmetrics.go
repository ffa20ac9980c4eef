package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Simulator metric families the report reads (vLLM names).
const (
	metricPrefixQueries = "vllm:prefix_cache_queries_total"
	metricPrefixHits    = "vllm:prefix_cache_hits_total"
	metricKVUsage       = "vllm:kv_cache_usage_perc"
	metricWaiting       = "vllm:num_requests_waiting"
	metricPreemptions   = "vllm:num_preemptions_total"
	metricPromptTokens  = "vllm:prompt_tokens_total"
	metricGenTokens     = "vllm:generation_tokens_total"
	metricTTFT          = "vllm:time_to_first_token_seconds"
)

// maxExpositionBytes caps a scraped exposition.
const maxExpositionBytes = 8 << 20

// sumSamples scans a Prometheus text exposition and returns, for each of
// names, the sum of its samples over all label sets. Names that do not occur
// are absent from the result. Comment lines, other families, unparsable
// values and NaN are ignored; the scan never fails.
func sumSamples(text []byte, names ...string) map[string]float64 {
	out := make(map[string]float64, len(names))
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		end := bytes.IndexAny(line, "{ ")
		if end <= 0 {
			continue
		}
		name := line[:end]
		want := ""
		for _, n := range names {
			if string(name) == n {
				want = n
				break
			}
		}
		if want == "" {
			continue
		}
		rest := line[end:]
		if rest[0] == '{' {
			close := bytes.LastIndexByte(rest, '}')
			if close < 0 {
				continue
			}
			rest = rest[close+1:]
		}
		fields := bytes.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(string(fields[0]), 64)
		if err != nil || v != v {
			continue
		}
		out[want] += v
	}
	return out
}

// scrapeSamples fetches url (a /metrics endpoint) and sums names in it.
func scrapeSamples(ctx context.Context, hc *http.Client, url string, names ...string) (map[string]float64, error) {
	text, err := fetch(ctx, hc, url)
	if err != nil {
		return nil, err
	}
	return sumSamples(text, names...), nil
}

// fetch returns the body of a GET of url (at most maxExpositionBytes).
func fetch(ctx context.Context, hc *http.Client, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxExpositionBytes))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return body, nil
}
