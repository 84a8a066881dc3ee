package openai

import "encoding/json"

// Model is one entry of the model list.
type Model struct {
	ID      string
	OwnedBy string
	// Created is a Unix time in seconds.
	Created int64
}

type wireModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// EncodeModelList encodes models as the body of GET /v1/models.
func EncodeModelList(models []Model) ([]byte, error) {
	list := struct {
		Object string      `json:"object"`
		Data   []wireModel `json:"data"`
	}{Object: "list", Data: make([]wireModel, len(models))}
	for i, m := range models {
		list.Data[i] = wireModel{ID: m.ID, Object: "model", Created: m.Created, OwnedBy: m.OwnedBy}
	}
	return json.Marshal(list)
}

// EncodeModel encodes m as the body of GET /v1/models/{model} (Retrieve
// model): the same object as a list entry.
func EncodeModel(m Model) ([]byte, error) {
	return json.Marshal(wireModel{ID: m.ID, Object: "model", Created: m.Created, OwnedBy: m.OwnedBy})
}
