package anthropic

import (
	"encoding/json"
	"time"
)

// Model is one model of the Models API (ModelInfo).
type Model struct {
	ID          string
	DisplayName string
	// CreatedAt is the model's release time; zero when unknown, written
	// as the epoch, as the API does.
	CreatedAt time.Time
}

// wireModel is ModelInfo as GET /v1/models/{model_id} answers it and as
// the entries of the list are.
type wireModel struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

func toWire(m Model) wireModel {
	t := m.CreatedAt
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return wireModel{Type: "model", ID: m.ID, DisplayName: m.DisplayName, CreatedAt: t.UTC().Format(time.RFC3339)}
}

// EncodeModel encodes m as the body of GET /v1/models/{model_id}.
func EncodeModel(m Model) ([]byte, error) { return json.Marshal(toWire(m)) }

// EncodeModelPage encodes one page of GET /v1/models: the models, whether
// there are more in the direction asked (has_more), and the first and last
// ids of the page (null when it is empty), the cursors of the pages before
// and after it.
func EncodeModelPage(models []Model, hasMore bool) ([]byte, error) {
	page := struct {
		Data    []wireModel `json:"data"`
		HasMore bool        `json:"has_more"`
		FirstID *string     `json:"first_id"`
		LastID  *string     `json:"last_id"`
	}{Data: make([]wireModel, len(models)), HasMore: hasMore}
	for i, m := range models {
		page.Data[i] = toWire(m)
	}
	if len(models) > 0 {
		page.FirstID, page.LastID = &models[0].ID, &models[len(models)-1].ID
	}
	return json.Marshal(page)
}
