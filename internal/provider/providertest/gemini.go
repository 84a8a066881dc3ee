package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// GeminiModelVersion is the modelVersion of the fake Gemini's own answers.
const GeminiModelVersion = "gemini-2.5-flash"

// Gemini is a fake of the Gemini API. Requests go to URL +
// "/v1beta/models/{model}:{method}", as to
// https://generativelanguage.googleapis.com. Streams are sent as Gemini
// sends them: "data: " events each ended by CRLF CRLF, without [DONE]. With
// nothing enqueued it answers from the request itself, in Gemini's format:
// an answer (or a stream, the usage in every event) repeating the last
// content's text, or embeddings.
//
// Whatever is enqueued, it refuses what the Gemini API refuses: a request
// without the x-goog-api-key header or with a key in the URL (403), a
// content whose role is not user or model or whose parts are empty, a
// functionCall whose args are not an object, a functionResponse whose
// response is not an object, a request with both parameters and
// parametersJsonSchema (400); and streamGenerateContent without alt=sse is
// answered as the API does, with a JSON array.
type Gemini struct {
	// URL is the server's root URL.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server
	*fake
}

// NewGemini starts a fake Gemini server, closed when the test ends.
func NewGemini(t testing.TB) *Gemini {
	f := &Gemini{fake: newFake(defaultGemini)}
	f.refuse = geminiRefuse
	f.Server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	f.URL = f.Server.URL
	t.Cleanup(f.Server.Close)
	return f
}

// GeminiError is an error answer of Google's: {"error": {code, message,
// status}}.
func GeminiError(code int, status, msg string) Response {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
	return Response{Status: code, Body: b}
}

// geminiMethod returns the method of a request path
// /v1beta/models/{model}:{method}, or "".
func geminiMethod(path string) string {
	rest, ok := strings.CutPrefix(path, "/v1beta/models/")
	if !ok {
		return ""
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return ""
	}
	return rest[i+1:]
}

// geminiRefuse answers a request the Gemini API would refuse.
func geminiRefuse(r *http.Request, body []byte) (Response, bool) {
	if r.URL.Query().Has("key") {
		return GeminiError(http.StatusForbidden, "PERMISSION_DENIED", "the fake refuses a key in the URL: it would land in logs"), true
	}
	if r.Header.Get("x-goog-api-key") == "" {
		return GeminiError(http.StatusForbidden, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."), true
	}
	return geminiRefuseBody(geminiMethod(r.URL.Path), body)
}

// geminiRefuseBody answers a generateContent or streamGenerateContent body
// the API would refuse.
func geminiRefuseBody(m string, body []byte) (Response, bool) {
	if m != "generateContent" && m != "streamGenerateContent" {
		return Response{}, false
	}
	req := gjson.ParseBytes(body)
	bad := func(msg string) (Response, bool) {
		return GeminiError(http.StatusBadRequest, "INVALID_ARGUMENT", msg), true
	}
	if !req.IsObject() {
		return bad("Invalid JSON payload received.")
	}
	for i, c := range req.Get("contents").Array() {
		if role := c.Get("role").Str; role != "user" && role != "model" {
			return bad(fmt.Sprintf("Please use a valid role: user, model. (contents[%d])", i))
		}
		ps := c.Get("parts").Array()
		if len(ps) == 0 {
			return bad(fmt.Sprintf("* GenerateContentRequest.contents[%d].parts: contents.parts must not be empty.", i))
		}
		for _, p := range ps {
			if fc := p.Get("functionCall"); fc.Exists() && fc.Get("args").Exists() && !fc.Get("args").IsObject() {
				return bad("Invalid value at 'contents[" + fmt.Sprint(i) + "].parts[0].function_call.args' (type.googleapis.com/google.protobuf.Struct)")
			}
			if fr := p.Get("functionResponse"); fr.Exists() && !fr.Get("response").IsObject() {
				return bad("Invalid value at 'contents[" + fmt.Sprint(i) + "].parts[0].function_response.response' (type.googleapis.com/google.protobuf.Struct)")
			}
		}
	}
	for _, t := range req.Get("tools").Array() {
		for _, d := range t.Get("functionDeclarations").Array() {
			if d.Get("parameters").Exists() && d.Get("parametersJsonSchema").Exists() {
				return bad("parameters and parametersJsonSchema are mutually exclusive")
			}
		}
	}
	return Response{}, false
}

// defaultGemini answers a request nothing was enqueued for.
func defaultGemini(r *http.Request, body []byte) Response {
	req := gjson.ParseBytes(body)
	if r.Method != http.MethodPost {
		return GeminiError(http.StatusMethodNotAllowed, "INVALID_ARGUMENT", "method not allowed")
	}
	return geminiAnswer(geminiMethod(r.URL.Path), r.URL.Query().Get("alt"), req)
}

// geminiAnswer answers method from the request req itself; alt is the
// alt query parameter.
func geminiAnswer(method, alt string, req gjson.Result) Response {
	switch method {
	case "generateContent":
		return Response{Body: geminiEchoAnswer(req)}
	case "streamGenerateContent":
		if alt != "sse" {
			return Response{Body: []byte("[" + string(geminiEchoAnswer(req)) + "]")}
		}
		return Response{SSE: geminiEchoStream(req)}
	case "embedContent":
		return Response{Body: geminiEmbed([]gjson.Result{req.Get("content")}, "embedding")}
	case "batchEmbedContents":
		var cs []gjson.Result
		for _, q := range req.Get("requests").Array() {
			cs = append(cs, q.Get("content"))
		}
		return Response{Body: geminiEmbed(cs, "embeddings")}
	}
	return GeminiError(http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server.")
}

// geminiLastText is the text of the last content's text parts and
// function results.
func geminiLastText(req gjson.Result) string {
	cs := req.Get("contents").Array()
	if len(cs) == 0 {
		return ""
	}
	var s string
	for _, p := range cs[len(cs)-1].Get("parts").Array() {
		s += p.Get("text").Str
		if r := p.Get("functionResponse.response"); r.Exists() {
			// A function's result: its output, or the object.
			if o := r.Get("output"); o.Type == gjson.String {
				s += o.Str
			} else {
				s += r.Raw
			}
		}
	}
	return s
}

func geminiUsage(req gjson.Result, completion int) map[string]any {
	prompt := len(strings.Fields(req.Get("contents").Raw))
	return map[string]any{"promptTokenCount": prompt, "candidatesTokenCount": completion, "totalTokenCount": prompt + completion}
}

func geminiEchoAnswer(req gjson.Result) []byte {
	text := geminiLastText(req)
	b, _ := json.MarshalIndent(map[string]any{
		"candidates": []any{map[string]any{
			"content":      map[string]any{"parts": []any{map[string]any{"text": text}}, "role": "model"},
			"finishReason": "STOP", "index": 0,
		}},
		"usageMetadata": geminiUsage(req, len(strings.Fields(text))),
		"modelVersion":  GeminiModelVersion, "responseId": "fake-response-id",
	}, "", "  ")
	return b
}

// geminiEchoStream streams the last content's text word by word, the
// usage so far in every event.
func geminiEchoStream(req gjson.Result) []byte {
	text := geminiLastText(req)
	words := strings.SplitAfter(text, " ")
	var buf bytes.Buffer
	n := 0
	for i, w := range words {
		if w == "" && i < len(words)-1 {
			continue
		}
		n++
		cand := map[string]any{"content": map[string]any{"parts": []any{map[string]any{"text": w}}, "role": "model"}, "index": 0}
		if i == len(words)-1 {
			cand["finishReason"] = "STOP"
		}
		b, _ := json.Marshal(map[string]any{"candidates": []any{cand}, "usageMetadata": geminiUsage(req, n),
			"modelVersion": GeminiModelVersion, "responseId": "fake-response-id"})
		fmt.Fprintf(&buf, "data: %s\r\n\r\n", b)
	}
	return buf.Bytes()
}

// geminiEmbed answers with a small vector per content, under member.
func geminiEmbed(contents []gjson.Result, member string) []byte {
	vecs := make([]any, len(contents))
	for i, c := range contents {
		var s string
		for _, p := range c.Get("parts").Array() {
			s += p.Get("text").Str
		}
		vecs[i] = map[string]any{"values": []float64{float64(len(s)), float64(i), 0.5}}
	}
	var v any = vecs
	if member == "embedding" {
		v = vecs[0]
	}
	b, _ := json.MarshalIndent(map[string]any{member: v}, "", "  ")
	return b
}
