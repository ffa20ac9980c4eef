package modelmetrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/infergate/infergate/internal/pool"
)

// modelList is the part of an OpenAI GET /v1/models response we read.
type modelList struct {
	Data *[]struct {
		ID string `json:"id"`
	} `json:"data"`
}

// scrapeModels fetches ep's model list at url and publishes it on ep.
func (s *Scraper) scrapeModels(ctx context.Context, ep *pool.Endpoint, url string) error {
	ids, err := s.fetchModels(ctx, url)
	if err != nil {
		if ctx.Err() == nil {
			s.self.countError(ep, sourceModels)
		}
		return fmt.Errorf("list models of %s: %w", endpointName(ep), err)
	}
	ep.SetModels(ids)
	return nil
}

// minModelsTimeout bounds a /v1/models fetch from below: the list is fetched
// seldom, a wrong "unknown model" answer costs more than a slow fetch, and the
// metrics scrape timeout (a fraction of 50 ms) is too tight for it.
const minModelsTimeout = time.Second

func (s *Scraper) fetchModels(ctx context.Context, url string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, max(s.timeout, minModelsTimeout))
	defer cancel()
	body, err := s.get(ctx, url, "application/json")
	if err != nil {
		return nil, err
	}
	defer closeBody(body)
	return decodeModels(body)
}

// decodeModels reads an OpenAI model list from r, at most MaxBodyBytes of it,
// and returns the non-empty model IDs in the order listed.
func decodeModels(r io.Reader) ([]string, error) {
	var list modelList
	if err := json.NewDecoder(io.LimitReader(r, MaxBodyBytes)).Decode(&list); err != nil {
		return nil, fmt.Errorf("decode model list: %w", err)
	}
	if list.Data == nil {
		return nil, errors.New("decode model list: no data field")
	}
	ids := make([]string, 0, len(*list.Data))
	for _, m := range *list.Data {
		if m.ID != "" {
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}
