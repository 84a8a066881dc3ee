package admin

import (
	"net/http"
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/reload"
)

// Configs reports the running configuration and reloads it
// (reload.Reloader).
type Configs interface {
	Status() reload.Status
	Reload(trigger string) (reload.Status, error)
}

// errNoReload answers the configuration routes of a gateway built without
// a Reloader.
var errNoReload = &llm.Error{Kind: llm.KindMissing, Message: "configuration reload is not available in this gateway"}

// handleConfig answers GET /admin/v1/config: the running configuration's
// version and hash and the outcome of the last reload.
func (a *API) handleConfig(w http.ResponseWriter, r *http.Request, _ *caller) {
	if a.b.Configs == nil {
		a.fail(w, r, errNoReload)
		return
	}
	a.writeJSON(w, r, http.StatusOK, a.b.Configs.Status())
}

// handleReload answers POST /admin/v1/config/reload: it reloads the
// configuration now and answers the new status, or 422 with every problem
// while the running configuration keeps serving. The body, if any, must
// be an empty JSON object.
func (a *API) handleReload(w http.ResponseWriter, r *http.Request, c *caller) {
	if err := decodeBody(w, r, true, nil); err != nil {
		a.fail(w, r, err)
		return
	}
	if a.b.Configs == nil {
		a.fail(w, r, errNoReload)
		return
	}
	before := a.b.Configs.Status()
	st, err := a.b.Configs.Reload(reload.TriggerAdmin)
	if err != nil {
		msg := "the configuration was not reloaded; the running configuration keeps serving: " + strings.Join(reload.Problems(err), "; ")
		a.fail(w, r, &llm.Error{Kind: llm.KindUnprocessable, Message: msg, Err: err})
		return
	}
	if err := a.record(r, c, "config.reload", "", "config", versionOf(before), versionOf(st)); err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, r, http.StatusOK, st)
}

// configVersion is what the audit log records of a configuration.
type configVersion struct {
	Version int64  `json:"version"`
	Hash    string `json:"hash"`
}

func versionOf(st reload.Status) configVersion {
	return configVersion{Version: st.Version, Hash: st.Hash}
}
