package admin

import (
	"errors"
	"io"
	"net/http"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/llmgw/llmgw/internal/router"
)

// maxResetBody bounds the body of POST /admin/v1/targets/reset; a real one
// is a few dozen bytes.
const maxResetBody = 64 << 10

// resetRequest is the body of POST /admin/v1/targets/reset: either "all":
// true, or "model" with, optionally, "provider" and "upstream_model" to
// narrow it to some of the model's targets.
type resetRequest struct {
	all bool
	sel router.TargetID
}

// resetFields are the fields the reset body may hold.
var resetFields = map[string]bool{"all": true, "model": true, "provider": true, "upstream_model": true}

// parseReset decodes a reset body strictly: a JSON object with no unknown,
// duplicate or mistyped field, that selects targets explicitly.
func parseReset(body []byte) (resetRequest, error) {
	var req resetRequest
	raw, err := jsonwire.OwnBody(body)
	if err != nil {
		return req, err
	}
	obj := jsonwire.SplitObject(raw)
	seen := make(map[string]bool, len(obj))
	for _, m := range obj {
		key := string(m.Key)
		switch {
		case !resetFields[key]:
			return req, llm.InvalidRequest(key, "unknown field %q", key)
		case seen[key]:
			return req, llm.InvalidRequest(key, "duplicate field %q", key)
		}
		seen[key] = true
		if key == "all" {
			b, err := jsonwire.DecodeBool(m.Val, key)
			if err != nil {
				return req, err
			}
			req.all = b != nil && *b
			continue
		}
		s, err := jsonwire.DecodeString(m.Val, key)
		if err != nil {
			return req, err
		}
		switch key {
		case "model":
			req.sel.Model = s
		case "provider":
			req.sel.Provider = s
		case "upstream_model":
			req.sel.UpstreamModel = s
		}
	}
	switch {
	case req.all && (seen["model"] || seen["provider"] || seen["upstream_model"]):
		return req, llm.InvalidRequest("all", `"all": true resets every target; it takes no other field`)
	case !req.all && req.sel.Model == "":
		return req, llm.InvalidRequest("model", `name the target's "model" (and optionally "provider" and "upstream_model"), or send "all": true`)
	}
	return req, nil
}

// resetResponse is the answer of POST /admin/v1/targets/reset.
type resetResponse struct {
	// Reset counts the targets reset, listed in Data.
	Reset int               `json:"reset"`
	Data  []router.TargetID `json:"data"`
}

// handleReset serves POST /admin/v1/targets/reset: the chosen targets'
// breakers close and their Retry-After cool-downs end, so they take
// requests again at once. Choosing no target at all is a 404.
func (a *API) handleReset(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResetBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			a.fail(w, r, llm.NewError(llm.KindTooLarge, "the request body is larger than %d bytes", maxResetBody))
			return
		}
		a.fail(w, r, llm.Wrap(llm.KindInvalidRequest, err, "could not read the request body"))
		return
	}
	req, err := parseReset(body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if req.all {
		req.sel = router.TargetID{}
	}
	var ids []router.TargetID
	if a.router != nil {
		ids = a.router.Reset(req.sel)
	}
	if len(ids) == 0 && !req.all {
		a.fail(w, r, llm.NewError(llm.KindNotFound, "no target matches model %q, provider %q, upstream_model %q",
			req.sel.Model, req.sel.Provider, req.sel.UpstreamModel))
		return
	}
	if ids == nil {
		ids = []router.TargetID{}
	}
	res := resetResponse{Reset: len(ids), Data: ids}
	if err := a.record(r, c, "targets.reset", "", "", nil, res); err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, res)
}
