package anthropic

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func TestListModels(t *testing.T) {
	p, f := newProvider(t)
	list, err := p.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range list {
		ids = append(ids, m.ID)
	}
	if got := strings.Join(ids, ","); got != "claude-sonnet-4-20250514,claude-3-7-sonnet-20250219,claude-3-5-haiku-20241022" {
		t.Errorf("ids %s", got)
	}
	if list[0].DisplayName != "Claude Sonnet 4" || list[0].Created.Format("2006-01-02") != "2025-05-22" {
		t.Errorf("first: %+v", list[0])
	}
	r := f.Requests()[0]
	if r.Method != "GET" || r.Path != "/v1/models" || r.Header.Get("x-api-key") != secret || r.Header.Get("anthropic-version") == "" {
		t.Errorf("request %s %s %v", r.Method, r.Path, r.Header)
	}
}

// A list longer than a page is followed with after_id, page by page.
func TestListModelsFollowsPages(t *testing.T) {
	p, f := newProvider(t)
	objs := make([]string, 2500)
	for i := range objs {
		objs[i] = fmt.Sprintf(`{"type":"model","id":"claude-%d","display_name":"C %d","created_at":"2025-01-01T00:00:00Z"}`, i, i)
	}
	f.SetModels(objs...)
	list, err := p.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2000 || list[0].ID != "claude-0" || list[1999].ID != "claude-1999" {
		t.Errorf("%d models, first %v", len(list), list[0])
	}
	var queries []string
	for _, r := range f.Requests() {
		queries = append(queries, r.Path)
	}
	if len(queries) != 3 {
		t.Errorf("%d pages fetched, want 3", len(queries))
	}
}

// An upstream that always says has_more is asked a bounded number of
// pages; one whose last_id does not move is asked once.
func TestListModelsBoundedPages(t *testing.T) {
	p, f := newProvider(t)
	for i := range 2 * maxModelPages {
		f.Enqueue(providertest.Response{Body: fmt.Appendf(nil, `{"data":[{"type":"model","id":"m%d"}],"has_more":true,"first_id":"m%d","last_id":"m%d"}`, i, i, i)})
	}
	list, err := p.ListModels(context.Background())
	if err != nil || len(list) != maxModelPages || len(f.Requests()) != maxModelPages {
		t.Errorf("%d models from %d requests (err %v), want %d of each", len(list), len(f.Requests()), err, maxModelPages)
	}

	p, f = newProvider(t)
	for range 3 {
		f.Enqueue(providertest.Response{Body: []byte(`{"data":[{"type":"model","id":"m"}],"has_more":true,"first_id":"m","last_id":"m"}`)})
	}
	if _, err := p.ListModels(context.Background()); err != nil || len(f.Requests()) != 2 {
		t.Errorf("%d requests with a stuck cursor (err %v), want 2", len(f.Requests()), err)
	}
}

func TestListModelsHostile(t *testing.T) {
	for _, tt := range []struct {
		name string
		resp providertest.Response
	}{
		{"not JSON", providertest.Response{Body: []byte("nope")}},
		{"no data", providertest.Response{Body: []byte(`{"has_more":false}`)}},
		{"overloaded", providertest.AnthropicError(529, "overloaded_error", "Overloaded")},
		{"401 echoing the key", providertest.AnthropicError(401, "authentication_error", "invalid x-api-key "+secret)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newProvider(t)
			f.Enqueue(tt.resp)
			list, err := p.ListModels(context.Background())
			if err == nil {
				t.Fatalf("no error; list %v", list)
			}
			if e := llm.AsError(err); e.Provider != "an" || strings.Contains(err.Error(), secret) || strings.Contains(e.Message, secret) {
				t.Errorf("error %v", err)
			}
		})
	}
}
