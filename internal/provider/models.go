package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
)

// ModelLister is implemented by providers whose upstream lists the models
// it serves (OpenAI's GET /models, Anthropic's GET /v1/models), so that the
// gateway can list the models a wildcard route ("openai/*") reaches.
type ModelLister interface {
	// ListModels fetches the upstream's model list. It reads at most
	// MaxModelListBody bytes per answer and returns at most MaxModels
	// models, each with a valid ID (ValidModelID); the caller bounds the
	// time with ctx.
	ListModels(ctx context.Context) ([]ModelInfo, error)
	// ModelsKey identifies the list ListModels fetches: equal for two
	// providers that ask the same URL with the same credentials and
	// headers, in any snapshot, and different otherwise, so that a
	// process-wide cache shares a list only where it is the same. It holds
	// no secret (a hash of the headers stands for them).
	ModelsKey() string
}

// ModelInfo is one model an upstream lists.
type ModelInfo struct {
	// ID is the upstream's own model id.
	ID string
	// DisplayName is the upstream's human-readable name; empty when it has
	// none.
	DisplayName string
	// OwnedBy is the organization owning the model (OpenAI's owned_by);
	// empty when unknown.
	OwnedBy string
	// Created is when the model was created or released; zero when
	// unknown.
	Created time.Time
}

// Bounds of an upstream's model list: a huge or lying upstream must not
// bloat the gateway's memory or its /v1/models answers.
const (
	// MaxModelListBody caps one answer of a models endpoint. OpenAI's whole
	// list is some tens of KiB.
	MaxModelListBody = 4 << 20
	// MaxModels caps the models kept of one upstream's list.
	MaxModels = 2000
	// MaxModelIDLen caps the length of a model id kept.
	MaxModelIDLen = 256
)

// ValidModelID reports whether id is a model id worth listing: non-empty,
// at most MaxModelIDLen bytes of valid UTF-8, and no control or space
// characters (which no real model id has and which would only serve to
// confuse a client or a log).
func ValidModelID(id string) bool {
	if id == "" || len(id) > MaxModelIDLen || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// KeepModels returns the models of list with a valid ID, the first of each
// ID, at most MaxModels of them, in order.
func KeepModels(list []ModelInfo) []ModelInfo {
	seen := make(map[string]bool, len(list))
	out := make([]ModelInfo, 0, min(len(list), MaxModels))
	for _, m := range list {
		if len(out) == MaxModels {
			break
		}
		if !ValidModelID(m.ID) || seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		if !utf8.ValidString(m.DisplayName) || len(m.DisplayName) > MaxModelIDLen {
			m.DisplayName = ""
		}
		if !utf8.ValidString(m.OwnedBy) || len(m.OwnedBy) > MaxModelIDLen {
			m.OwnedBy = ""
		}
		out = append(out, m)
	}
	return out
}

// GetRead sends a GET to url with the upstream's static headers and reads
// a JSON answer of at most limit bytes, with the upstream's secrets
// redacted. Any other answer, a transport failure or a longer body is an
// *llm.Error.
func (u *Upstream) GetRead(ctx context.Context, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, llm.Wrap(llm.KindInternal, err, "")
	}
	req.Header = u.jsonHeader
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, TransportError(u.name, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, u.ResponseError(resp)
	}
	return u.readAnswer(resp, limit)
}

// Fingerprint is a hash of the upstream's static headers (credentials
// included): equal for two upstreams that send the same, and revealing
// nothing of them.
func (u *Upstream) Fingerprint() string {
	keys := make([]string, 0, len(u.jsonHeader))
	for k := range u.jsonHeader {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		for _, v := range u.jsonHeader[k] {
			fmt.Fprintf(h, "%s\x00%s\x00", k, v)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// CheckModelList checks that b, a models endpoint's answer, is one JSON
// object (jsonwire.CheckAnswer: bounded depth, valid UTF-8) with a "data" array, so
// that reading it after costs no more than its length.
func CheckModelList(b []byte) error {
	hasData := false
	err := jsonwire.CheckAnswer(b, func(name []byte, value int) {
		if string(name) == "data" {
			hasData = b[value] == '['
		}
	})
	if err != nil {
		return err
	}
	if !hasData {
		return errors.New(`model list is not an object with a "data" array`)
	}
	return nil
}
