package server

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
)

// writeResponse folds the stream into one whole response and writes it with
// encode, the client protocol's encoder. A single chunk the upstream sent in
// the client's own protocol is written as it came. The usage written is the
// stream's final count, whatever chunk carried it.
func (s *Server) writeResponse(w http.ResponseWriter, r *http.Request, stream llm.Stream, protocol string, encode func(*llm.Chunk) ([]byte, error)) {
	var acc llm.Accumulator
	var raw []byte
	n := 0
	for {
		c, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		n++
		if c.Raw != nil && c.RawProtocol == protocol {
			raw = c.Raw
			continue
		}
		acc.Add(c)
	}
	body := raw
	if raw == nil || n != 1 {
		resp := acc.Response()
		if u := stream.Usage(); !u.IsZero() {
			resp.Usage = &u
		}
		if resp.Created == 0 {
			resp.Created = time.Now().Unix()
		}
		var err error
		if body, err = encode(resp); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	writeJSON(w, http.StatusOK, body)
}
