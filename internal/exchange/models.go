package exchange

import "github.com/infergate/infergate/internal/openai"

// Models returns the /v1/models answer for ids, the union of the models the
// router knows: each is created when the tracker was and owned by infergate.
func (t *Tracker) Models(ids []string) openai.ModelList {
	list := openai.ModelList{Object: "list", Data: make([]openai.Model, 0, len(ids))}
	for _, id := range ids {
		list.Data = append(list.Data, openai.Model{ID: id, Object: "model", Created: t.started, OwnedBy: "infergate"})
	}
	return list
}
