package providertest

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestModelCapturesAreValid(t *testing.T) {
	for _, name := range []string{"openai/models.json", "anthropic/models.json"} {
		b := Load(t, name)
		if !gjson.ValidBytes(b) || !gjson.GetBytes(b, "data").IsArray() {
			t.Errorf("%s is not a model list", name)
		}
	}
	a := gjson.ParseBytes(Load(t, "anthropic/models.json"))
	for _, m := range a.Get("data").Array() {
		if m.Get("type").String() != "model" || m.Get("display_name").String() == "" || m.Get("created_at").String() == "" {
			t.Errorf("not a ModelInfo: %s", m.Raw)
		}
	}
	if a.Get("first_id").String() != a.Get("data.0.id").String() || a.Get("last_id").String() != a.Get("data.2.id").String() {
		t.Error("first_id/last_id do not match data")
	}
}

func TestOpenAIModels(t *testing.T) {
	f := NewOpenAI(t)
	status, body := get(t, f.URL+"/models")
	if status != 200 || gjson.Get(body, "object").String() != "list" || gjson.Get(body, "data.#").Int() != 4 {
		t.Errorf("list: %d %s", status, body)
	}
	status, body = get(t, f.URL+"/models/gpt-4o")
	if status != 200 || gjson.Get(body, "id").String() != "gpt-4o" || gjson.Get(body, "object").String() != "model" {
		t.Errorf("retrieve: %d %s", status, body)
	}
	if status, body = get(t, f.URL+"/models/nope"); status != 404 || gjson.Get(body, "error.type").String() != "invalid_request_error" {
		t.Errorf("unknown: %d %s", status, body)
	}
}

// The fake's pagination is the reference's: limit (default 20, 1 to
// 1000), after_id, before_id, has_more in the direction asked, first_id
// and last_id of the page.
func TestAnthropicModelsPagination(t *testing.T) {
	f := NewAnthropic(t)
	f.SetModels(`{"type":"model","id":"a"}`, `{"type":"model","id":"b"}`, `{"type":"model","id":"c"}`, `{"type":"model","id":"d"}`)
	page := func(q string) string {
		t.Helper()
		status, body := get(t, f.URL+"/v1/models"+q)
		if status != 200 {
			t.Fatalf("%s: %d %s", q, status, body)
		}
		var ids []string
		for _, v := range gjson.Get(body, "data.#.id").Array() {
			ids = append(ids, v.String())
		}
		return strings.Join(ids, ",") + " more=" + gjson.Get(body, "has_more").Raw + " " + gjson.Get(body, "first_id").Raw + ".." + gjson.Get(body, "last_id").Raw
	}
	for q, want := range map[string]string{
		"":                     `a,b,c,d more=false "a".."d"`,
		"?limit=2":             `a,b more=true "a".."b"`,
		"?limit=2&after_id=b":  `c,d more=false "c".."d"`,
		"?limit=1&after_id=b":  `c more=true "c".."c"`,
		"?limit=2&before_id=d": `b,c more=true "b".."c"`,
		"?limit=2&before_id=c": `a,b more=false "a".."b"`,
		"?after_id=d":          ` more=false null..null`,
	} {
		if got := page(q); got != want {
			t.Errorf("%q: got %s, want %s", q, got, want)
		}
	}
	if status, body := get(t, f.URL+"/v1/models?limit=0"); status != 400 || gjson.Get(body, "error.type").String() != "invalid_request_error" {
		t.Errorf("limit=0: %d %s", status, body)
	}
	if status, body := get(t, f.URL+"/v1/models/c"); status != 200 || gjson.Get(body, "id").String() != "c" {
		t.Errorf("get: %d %s", status, body)
	}
	if status, body := get(t, f.URL+"/v1/models/zz"); status != 404 || gjson.Get(body, "error.type").String() != "not_found_error" {
		t.Errorf("unknown: %d %s", status, body)
	}
}
