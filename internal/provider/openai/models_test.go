package openai

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

func TestListModels(t *testing.T) {
	f := providertest.NewOpenAI(t)
	p := newProvider(t, f, nil)
	list, err := p.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range list {
		ids = append(ids, m.ID)
	}
	if got := strings.Join(ids, ","); got != "gpt-4o-mini,gpt-4o,text-embedding-3-small,ft:gpt-4o-mini-2024-07-18:acme::9abcDEF1" {
		t.Errorf("ids %s", got)
	}
	if list[1].OwnedBy != "system" || list[1].Created.Unix() != 1715367049 {
		t.Errorf("gpt-4o: %+v", list[1])
	}
	r := f.Requests()[0]
	if r.Method != "GET" || r.Path != "/v1/models" || r.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("request %s %s %v", r.Method, r.Path, r.Header)
	}
}

// A lying upstream's entries are kept only where they are model ids, each
// once, at most provider.MaxModels of them.
func TestListModelsKeepsValidEntries(t *testing.T) {
	f := providertest.NewOpenAI(t)
	p := newProvider(t, f, nil)
	f.SetModels(`{"id":"a","created":"yesterday","owned_by":7}`, `{"id":""}`, `{"id":42}`, `{"id":"has space"}`,
		`{"id":"ctl\u0001"}`, `{"id":"a"}`, `{"id":"`+strings.Repeat("x", 300)+`"}`, `{"id":["b"]}`, `"c"`, `{"id":"d","created":-5}`)
	list, err := p.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "a" || !list[0].Created.IsZero() || list[0].OwnedBy != "" || list[1].ID != "d" || !list[1].Created.IsZero() {
		t.Errorf("kept %+v", list)
	}
	objs := make([]string, 3*provider.MaxModels)
	for i := range objs {
		objs[i] = fmt.Sprintf(`{"id":"m%d"}`, i)
	}
	f.SetModels(objs...)
	if list, err := p.ListModels(context.Background()); err != nil || len(list) != provider.MaxModels {
		t.Errorf("%d models kept of %d (err %v), want %d", len(list), len(objs), err, provider.MaxModels)
	}
}

// Answers that are no model list are errors, never a list, and never a
// hang or a crash.
func TestListModelsHostile(t *testing.T) {
	for _, tt := range []struct {
		name string
		resp providertest.Response
	}{
		{"not JSON", providertest.Response{Body: []byte("<html>oops</html>")}},
		{"no data", providertest.Response{Body: []byte(`{"object":"list"}`)}},
		{"data not an array", providertest.Response{Body: []byte(`{"data":{"id":"x"}}`)}},
		{"truncated", providertest.Response{Body: []byte(`{"data":[{"id":"x"}`)}},
		{"nested 10 million deep", providertest.Response{Body: append([]byte(`{"data":`), bytes.Repeat([]byte("["), 10_000_000)...)}},
		{"over the size cap", providertest.Response{Body: append([]byte(`{"data":[],"pad":"`), bytes.Repeat([]byte("A"), provider.MaxModelListBody)...)}},
		{"event stream", providertest.Response{SSE: []byte("data: {\"data\":[]}\n\n")}},
		{"401 echoing the key", providertest.Response{Status: 401, Body: []byte(`{"error":{"message":"bad key ` + testKey + `","type":"invalid_request_error","code":"invalid_api_key"}}`)}},
		{"error object in a 200", providertest.Response{Body: []byte(`{"error":{"message":"no"}}`)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := providertest.NewOpenAI(t)
			p := newProvider(t, f, nil)
			f.Enqueue(tt.resp)
			list, err := p.ListModels(context.Background())
			if err == nil {
				t.Fatalf("no error; list %v", list)
			}
			if e := llm.AsError(err); e.Provider != "oai" || strings.Contains(e.Message, testKey) || strings.Contains(err.Error(), testKey) {
				t.Errorf("error %v (%+v)", err, e)
			}
		})
	}
}

// ModelsKey tells apart what lists differently and holds no secret.
func TestModelsKey(t *testing.T) {
	f := providertest.NewOpenAI(t)
	a := newProvider(t, f, nil)
	b := newProvider(t, f, func(c *Config) { c.Name = "other" })
	other := newProvider(t, f, func(c *Config) { c.APIKey = "sk-another" })
	org := newProvider(t, f, func(c *Config) { c.Headers = map[string]string{"OpenAI-Organization": "org-1"} })
	if a.ModelsKey() != b.ModelsKey() {
		t.Errorf("same upstream and credentials, different keys: %q %q", a.ModelsKey(), b.ModelsKey())
	}
	if a.ModelsKey() == other.ModelsKey() || a.ModelsKey() == org.ModelsKey() {
		t.Error("different credentials or headers share a key")
	}
	if strings.Contains(a.ModelsKey(), testKey) || !strings.Contains(a.ModelsKey(), f.URL+"/models") {
		t.Errorf("key %q", a.ModelsKey())
	}
}
