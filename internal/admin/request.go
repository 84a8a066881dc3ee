package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/protocol/jsonwire"
	"github.com/llmgw/llmgw/internal/store"
)

// MaxBody bounds an admin request body; the largest real one, a key with
// a thousand models, is a few tens of kilobytes.
const MaxBody = 1 << 20

// readBody reads r's body, at most MaxBody bytes. An empty body is nil.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, llm.NewError(llm.KindTooLarge, "the request body is larger than %d bytes", MaxBody)
		}
		return nil, llm.Wrap(llm.KindInvalidRequest, err, "could not read the request body")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, nil
	}
	return body, nil
}

// field decodes one member of a request object.
type field func(raw json.RawMessage) error

// decodeBody reads r's body as a JSON object strictly: valid UTF-8, no
// duplicate key, nesting bounded, and only the fields given, each decoded
// by its function. An empty body is an empty object when optional.
func decodeBody(w http.ResponseWriter, r *http.Request, optional bool, fields map[string]field) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if body == nil {
		if optional {
			return nil
		}
		return llm.InvalidRequest("", "the request body is empty: send a JSON object")
	}
	if !utf8.Valid(body) {
		return llm.InvalidRequest("", "the request body is not valid UTF-8")
	}
	raw, err := jsonwire.OwnBody(body)
	if err != nil {
		return err
	}
	for _, m := range jsonwire.SplitObject(raw) {
		key := string(m.Key)
		f, ok := fields[key]
		if !ok {
			return llm.InvalidRequest(key, "unknown field %q", llm.Clip(key))
		}
		if err := f(m.Val); err != nil {
			return err
		}
	}
	return nil
}

// setString decodes a string into *dst and marks it set; null is refused.
func setString(name string, dst **string) field {
	return func(raw json.RawMessage) error {
		if jsonwire.IsNull(raw) {
			return jsonwire.TypeError(name, "a string", raw)
		}
		s, err := jsonwire.DecodeString(raw, name)
		if err != nil {
			return err
		}
		*dst = &s
		return nil
	}
}

// setName decodes a name: 1 to store.MaxNameLen bytes, no control
// characters.
func setName(name string, dst **string) field {
	return func(raw json.RawMessage) error {
		if err := setString(name, dst)(raw); err != nil {
			return err
		}
		return checkName(name, **dst)
	}
}

func checkName(param, s string) error {
	if s == "" || len(s) > store.MaxNameLen || !store.Text(s) {
		return llm.InvalidRequest(param, "%s must be 1 to %d bytes of UTF-8", param, store.MaxNameLen)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return llm.InvalidRequest(param, "%s must not contain control characters", param)
	}
	if strings.TrimSpace(s) != s {
		return llm.InvalidRequest(param, "%s must not begin or end with white space", param)
	}
	return nil
}

// setNameOf is setName for the name of an object also found by name
// where it is found by ID: a name shaped like such an ID is refused, or it
// would be ambiguous.
func setNameOf(name, idPrefix string, dst **string) field {
	return func(raw json.RawMessage) error {
		if err := setName(name, dst)(raw); err != nil {
			return err
		}
		if strings.HasPrefix(**dst, idPrefix) {
			return llm.InvalidRequest(name, "%s must not begin with %q, which begins IDs", name, idPrefix)
		}
		return nil
	}
}

// setLabels decodes an object of strings, bounded as the store bounds
// labels; null clears them.
func setLabels(name string, dst **map[string]string) field {
	return func(raw json.RawMessage) error {
		m := map[string]string{}
		if !jsonwire.IsNull(raw) {
			obj, err := jsonwire.DecodeObject(raw, name)
			if err != nil {
				return err
			}
			if len(obj) > store.MaxLabels {
				return llm.InvalidRequest(name, "at most %d labels", store.MaxLabels)
			}
			for _, mem := range obj {
				k := string(mem.Key)
				p := name + "." + llm.Clip(k)
				v, ok := jsonwire.Unquote(mem.Val)
				if !ok {
					return jsonwire.TypeError(p, "a string", mem.Val)
				}
				if strings.IndexFunc(k, unicode.IsControl) >= 0 {
					return llm.InvalidRequest(name, "label keys must not contain control characters")
				}
				m[k] = v
			}
			if err := store.CheckLabels(m); err != nil {
				return llm.InvalidRequest(name, "%s", strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
			}
		}
		if len(m) == 0 {
			m = nil
		}
		*dst = &m
		return nil
	}
}

// setModels decodes a list of model names; null means every model.
func setModels(name string, dst **[]string) field {
	return func(raw json.RawMessage) error {
		var list []string
		if !jsonwire.IsNull(raw) {
			elems, err := jsonwire.DecodeArray(raw, name)
			if err != nil {
				return err
			}
			if len(elems) > store.MaxModels {
				return llm.InvalidRequest(name, "at most %d models", store.MaxModels)
			}
			list = make([]string, 0, len(elems))
			for i, e := range elems {
				p := jsonwire.Elem(name, i)
				s, ok := jsonwire.Unquote(e)
				if !ok {
					return jsonwire.TypeError(p, "a string", e)
				}
				if s == "" || len(s) > store.MaxModelLen || strings.IndexFunc(s, unicode.IsControl) >= 0 {
					return llm.InvalidRequest(p, "model names must be 1 to %d bytes without control characters", store.MaxModelLen)
				}
				list = append(list, s)
			}
		}
		*dst = &list
		return nil
	}
}

// setTime decodes an RFC 3339 time; null is the zero time.
func setTime(name string, dst **time.Time) field {
	return func(raw json.RawMessage) error {
		var t time.Time
		if !jsonwire.IsNull(raw) {
			s, ok := jsonwire.Unquote(raw)
			if !ok {
				return jsonwire.TypeError(name, "a string (an RFC 3339 time)", raw)
			}
			var err error
			if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return jsonwire.InvalidValue(name, "want an RFC 3339 time such as \"2027-01-31T00:00:00Z\"; got %q", s)
			}
			t = store.Micro(t)
		}
		*dst = &t
		return nil
	}
}

// setLimits decodes rate limits: an object of "rpm", "tpm" and
// "concurrent", each a non-negative integer (0 or null: no limit), which
// replaces all three; a field left out does not limit. null removes every
// limit.
func setLimits(name string, dst **store.Limits) field {
	return func(raw json.RawMessage) error {
		var l store.Limits
		if !jsonwire.IsNull(raw) {
			obj, err := jsonwire.DecodeObject(raw, name)
			if err != nil {
				return err
			}
			for _, mem := range obj {
				k := string(mem.Key)
				var n *int64
				switch k {
				case "rpm":
					n = &l.RPM
				case "tpm":
					n = &l.TPM
				case "concurrent":
					n = &l.Concurrent
				default:
					return llm.InvalidRequest(name+"."+llm.Clip(k), "unknown field %q in %s: want \"rpm\", \"tpm\" or \"concurrent\"", llm.Clip(k), name)
				}
				p := name + "." + k
				v, err := jsonwire.DecodeInt64(mem.Val, p)
				if err != nil {
					return err
				}
				if v != nil {
					if *v < 0 {
						return jsonwire.InvalidValue(p, "must not be negative; 0 or null means no limit")
					}
					*n = *v
				}
			}
		}
		*dst = &l
		return nil
	}
}

// setRole decodes a role: "tenant_admin", "read_only", or null for a
// data-plane key.
func setRole(name string, dst **store.Role) field {
	return func(raw json.RawMessage) error {
		role := store.RoleNone
		if !jsonwire.IsNull(raw) {
			s, ok := jsonwire.Unquote(raw)
			if !ok {
				return jsonwire.TypeError(name, "a string", raw)
			}
			role = store.Role(s)
			if role == store.RoleNone || !role.Valid() {
				return jsonwire.InvalidValue(name, "want \"tenant_admin\", \"read_only\", or null for a data-plane key; got %q", s)
			}
		}
		*dst = &role
		return nil
	}
}

// query returns r's query parameters, refusing any but the names given
// and those of paging, and repeated ones.
func query(r *http.Request, names ...string) (map[string]string, error) {
	vals, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{"limit": true, "cursor": true}
	for _, n := range names {
		allowed[n] = true
	}
	out := make(map[string]string, len(vals))
	for k, v := range vals {
		switch {
		case !allowed[k]:
			return nil, llm.InvalidRequest(k, "unknown query parameter %q", llm.Clip(k))
		case len(v) > 1:
			return nil, llm.InvalidRequest(k, "query parameter %q given more than once", k)
		case !store.Text(v[0]):
			return nil, llm.InvalidRequest(k, "query parameter %q is not valid UTF-8", k)
		}
		out[k] = v[0]
	}
	return out, nil
}

func parseQuery(r *http.Request) (map[string][]string, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, llm.InvalidRequest("", "malformed query string")
	}
	return vals, nil
}

// listOptions reads ?limit= (1 to store.MaxLimit) and ?cursor=.
func listOptions(r *http.Request) (store.ListOptions, error) {
	var o store.ListOptions
	q := r.URL.Query()
	if s := q.Get("limit"); s != "" || q.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > store.MaxLimit {
			return o, llm.InvalidRequest("limit", "limit must be an integer from 1 to %d", store.MaxLimit)
		}
		o.Limit = n
	}
	if q.Has("cursor") {
		o.Cursor = q.Get("cursor")
		if _, err := store.After(o.Cursor); err != nil || o.Cursor == "" {
			return o, llm.InvalidRequest("cursor", "malformed cursor: pass next_cursor of the previous page as it is")
		}
	}
	return o, nil
}

// queryTime reads an RFC 3339 time from q; absent is the zero time.
func queryTime(q map[string]string, name string) (time.Time, error) {
	s, ok := q[name]
	if !ok || s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, llm.InvalidRequest(name, "%s must be an RFC 3339 time such as \"2027-01-31T00:00:00Z\"", name)
	}
	return t, nil
}

// list is the shape of every list the API answers.
type list[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func listOf[S, T any](p store.Page[S], view func(S) T) list[T] {
	out := list[T]{Data: make([]T, 0, len(p.Items)), NextCursor: p.Next}
	for _, it := range p.Items {
		out.Data = append(out.Data, view(it))
	}
	return out
}

// notFound is the 404 of an object that does not exist or that the
// caller may not see; the two are not told apart.
func notFound(what, id string) error {
	return llm.NewError(llm.KindMissing, "%s %q not found", what, llm.Clip(id))
}

// storeError turns an error of the store into the client's: 404, 409 and
// 400 for what the store refused, 503 for a store that does not answer,
// whose own text stays in the logs. conflict says what a conflict means
// for the action ("" for a generic message).
func (a *API) storeError(err error, what string, conflict ...string) error {
	var le *llm.Error
	switch {
	case errors.As(err, &le):
		return err
	case errors.Is(err, store.ErrNotFound):
		return llm.NewError(llm.KindMissing, "%s not found", what)
	case errors.Is(err, store.ErrConflict):
		msg := what + " conflicts with the stored state"
		if len(conflict) > 0 {
			msg = conflict[0]
		}
		return llm.Wrap(llm.KindConflict, err, msg)
	case errors.Is(err, store.ErrInvalid):
		return llm.Wrap(llm.KindInvalidRequest, err, publicStoreText(err, store.ErrInvalid, "invalid "+what))
	case errors.Is(err, context.Canceled):
		return llm.Wrap(llm.KindCanceled, err, "")
	}
	a.b.Logger.Error("admin: store failed", "what", what, "err", err)
	return llm.Wrap(llm.KindUnavailable, err, "the store is unavailable; retry later")
}

// publicStoreText is the store's own message for a refusal, which names
// no secret and no driver detail, without the sentinel's text.
func publicStoreText(err, sentinel error, fallback string) string {
	s := err.Error()
	i := strings.Index(s, sentinel.Error())
	if i < 0 {
		return fallback
	}
	rest := strings.TrimPrefix(s[i+len(sentinel.Error()):], ": ")
	if rest == "" {
		return fallback
	}
	return fmt.Sprintf("%s: %s", fallback, llm.Clip(rest))
}

// missing is the 400 of a required field absent from a body.
func missing(name string) error { return jsonwire.Missing(name) }

// quote quotes a client's value for a message, clipped.
func quote(s string) string { return strconv.Quote(llm.Clip(s)) }

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
