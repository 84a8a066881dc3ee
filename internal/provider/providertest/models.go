package providertest

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/tidwall/gjson"
)

// The default model lists of the fakes, written from the API references'
// List models answers.
var (
	//go:embed testdata/openai/models.json
	openAIModelsCapture []byte
	//go:embed testdata/anthropic/models.json
	anthropicModelsCapture []byte
)

// models is the model list a fake serves: the objects as the API writes
// them, in the API's order.
type models struct {
	mu   sync.Mutex
	objs []json.RawMessage
}

func newModels(capture []byte) *models {
	m := &models{}
	gjson.GetBytes(capture, "data").ForEach(func(_, v gjson.Result) bool {
		m.objs = append(m.objs, json.RawMessage(v.Raw))
		return true
	})
	return m
}

// SetModels replaces the model objects the fake lists (each a JSON object
// with at least an "id"), in order.
func (m *models) SetModels(objs ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs = m.objs[:0]
	for _, o := range objs {
		m.objs = append(m.objs, json.RawMessage(o))
	}
}

func (m *models) snapshot() []json.RawMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]json.RawMessage(nil), m.objs...)
}

func (m *models) find(id string) (json.RawMessage, bool) {
	for _, o := range m.snapshot() {
		if gjson.GetBytes(o, "id").String() == id {
			return o, true
		}
	}
	return nil, false
}

// openAIModels answers GET /v1/models (List models: the whole list, not
// paginated) and GET /v1/models/{model} (Retrieve model), or reports false
// for another request.
func (m *models) openAIModels(r *http.Request) (Response, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/models")
	if r.Method != http.MethodGet || !ok {
		return Response{}, false
	}
	if rest == "" {
		b, _ := json.Marshal(map[string]any{"object": "list", "data": m.snapshot()})
		return Response{Body: b}, true
	}
	id := strings.TrimPrefix(rest, "/")
	if o, ok := m.find(id); ok {
		return Response{Body: o}, true
	}
	return openAIError(http.StatusNotFound, "invalid_request_error", "The model '"+id+"' does not exist"), true
}

// anthropicModels answers GET /v1/models (List Models, paginated as the
// reference defines: limit 1 to 1000, default 20; after_id for the page
// right after that object, before_id for the page right before it;
// has_more for more in the direction asked; first_id and last_id of the
// page, null when it is empty) and GET /v1/models/{model_id} (Get a
// Model), or reports false for another request.
func (m *models) anthropicModels(r *http.Request) (Response, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/models")
	if r.Method != http.MethodGet || !ok {
		return Response{}, false
	}
	if rest != "" {
		id := strings.TrimPrefix(rest, "/")
		if o, ok := m.find(id); ok {
			return Response{Body: o}, true
		}
		return AnthropicError(http.StatusNotFound, "not_found_error", "model: "+id), true
	}
	q := r.URL.Query()
	limit := 20
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return AnthropicError(http.StatusBadRequest, "invalid_request_error", "limit: Input should be between 1 and 1000"), true
		}
		limit = n
	}
	all := m.snapshot()
	index := func(id string) int {
		for i, o := range all {
			if gjson.GetBytes(o, "id").String() == id {
				return i
			}
		}
		return -1
	}
	start, end := 0, min(limit, len(all))
	hasMore := end < len(all)
	switch {
	case q.Get("before_id") != "":
		i := index(q.Get("before_id"))
		if i < 0 {
			i = 0
		}
		start, end = max(0, i-limit), i
		hasMore = start > 0
	case q.Get("after_id") != "":
		i := index(q.Get("after_id"))
		if i < 0 {
			i = len(all) - 1
		}
		start, end = i+1, min(i+1+limit, len(all))
		hasMore = end < len(all)
	}
	page := all[start:end]
	var first, last any
	if len(page) > 0 {
		first, last = gjson.GetBytes(page[0], "id").String(), gjson.GetBytes(page[len(page)-1], "id").String()
	}
	b, _ := json.Marshal(map[string]any{"data": page, "has_more": hasMore, "first_id": first, "last_id": last})
	return Response{Body: b}, true
}
