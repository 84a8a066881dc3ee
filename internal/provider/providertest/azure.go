package providertest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// Azure is a fake Azure OpenAI resource. URL is the resource endpoint, as
// https://NAME.openai.azure.com; requests go to
// URL + "/openai/deployments/{deployment}/chat/completions?api-version=V"
// (and /completions, /embeddings), or to the v1 surface, URL + "/openai/v1/chat/completions"
// with the deployment as the body's model. With nothing enqueued it answers
// from the request itself, as OpenAI's fake does, with Azure's additions:
// prompt_filter_results, content_filter_results per choice, a first stream
// event with empty choices, and the rate-limit headers
// x-ratelimit-remaining-requests and -tokens.
//
// Whatever is enqueued, it refuses what Azure refuses: a deployments
// request without api-version (404), a path it does not serve (404), and,
// when Key or Token is set, a request without that api-key or bearer token
// (401).
type Azure struct {
	// URL is the resource endpoint.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server
	// Key, when set, is the api-key every request must carry.
	Key string
	// Token, when set, reports whether a bearer token is valid.
	Token func(string) bool
	*fake
}

// NewAzure starts a fake Azure OpenAI resource, closed when the test ends.
func NewAzure(t testing.TB) *Azure {
	f := &Azure{}
	f.fake = newFake(defaultAzure)
	f.refuse = f.refuseRequest
	f.Server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.Server.URL
	t.Cleanup(f.Server.Close)
	return f
}

// AzureDeployment returns the deployment a recorded request was sent to:
// the path segment of the deployments surface, else the body's model.
func AzureDeployment(r Recorded) string {
	if rest, ok := strings.CutPrefix(r.Path, "/openai/deployments/"); ok {
		dep, _, _ := strings.Cut(rest, "/")
		return dep
	}
	return gjson.GetBytes(r.Body, "model").String()
}

func (f *Azure) refuseRequest(r *http.Request, _ []byte) (Response, bool) {
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/openai/deployments/"):
		rest := strings.TrimPrefix(path, "/openai/deployments/")
		dep, op, _ := strings.Cut(rest, "/")
		if dep == "" || (op != "chat/completions" && op != "completions" && op != "embeddings") {
			return azureError(http.StatusNotFound, "404", "Resource not found"), true
		}
		if r.URL.Query().Get("api-version") == "" {
			return azureError(http.StatusNotFound, "404", "Resource not found"), true
		}
	case path == "/openai/v1/chat/completions" || path == "/openai/v1/completions" || path == "/openai/v1/embeddings":
	default:
		return azureError(http.StatusNotFound, "404", "Resource not found"), true
	}
	switch {
	case f.Key != "" && r.Header.Get("api-key") != f.Key,
		f.Token != nil && !f.Token(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")):
		return azureError(http.StatusUnauthorized, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."), true
	}
	return Response{}, false
}

// azureError is Azure's error body: a code and a message, no type.
func azureError(status int, code, msg string) Response {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg}})
	return Response{Status: status, Body: b}
}

// azureFilterResults are the annotations of content that passed the filter.
const azureFilterResults = `{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}`

// azurePromptFilter is the prompt_filter_results of a passed prompt.
const azurePromptFilter = `[{"prompt_index":0,"content_filter_results":` + azureFilterResults + `}]`

// AzureRateLimitHeaders are the headers the fake sends with every answer.
var AzureRateLimitHeaders = http.Header{
	"X-Ratelimit-Remaining-Requests": {"99"},
	"X-Ratelimit-Remaining-Tokens":   {"119000"},
}

func defaultAzure(r *http.Request, body []byte) Response {
	resp := defaultOpenAI(r, body)
	if resp.Status != 0 && resp.Status != http.StatusOK {
		return resp
	}
	resp.Header = AzureRateLimitHeaders.Clone()
	switch {
	case resp.Body != nil && strings.HasSuffix(r.URL.Path, "completions"):
		resp.Body = azureAnnotate(resp.Body)
	case resp.SSE != nil:
		var out []byte
		out = append(out, `data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":`+azurePromptFilter+"}\n\n"...)
		for _, data := range DataPayloads(resp.SSE) {
			if string(data) != "[DONE]" && gjson.GetBytes(data, "choices.#").Int() > 0 {
				data, _ = sjson.SetRawBytes(data, "choices.0.content_filter_results", []byte(azureFilterResults))
			}
			out = append(out, "data: "...)
			out = append(out, data...)
			out = append(out, "\n\n"...)
		}
		resp.SSE = out
	}
	return resp
}

// azureAnnotate adds Azure's filter annotations to a chat completion.
func azureAnnotate(b []byte) []byte {
	b, _ = sjson.SetRawBytes(b, "prompt_filter_results", []byte(azurePromptFilter))
	b, _ = sjson.SetRawBytes(b, "choices.0.content_filter_results", []byte(azureFilterResults))
	return b
}
