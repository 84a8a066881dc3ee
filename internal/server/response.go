package server

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pipeline"
)

// writeResponse folds the stream into one whole response and writes it with
// encode, the client protocol's encoder. A single chunk the upstream sent in
// the client's own protocol is written as it came. The usage written is the
// stream's final count, whatever chunk carried it.
func (s *Server) writeResponse(w http.ResponseWriter, r *http.Request, call *pipeline.Call, stream llm.Stream, protocol string, encode func(*llm.Chunk) ([]byte, error)) {
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
	s.setCost(w, r, call, stream.Usage())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	writeJSON(w, http.StatusOK, body)
}

// costHeader is the cost of a non-streamed response in US dollars, from
// its usage and the serving model's price; absent when the price or the
// usage is unknown (a cost that is not known is not zero).
const costHeader = "X-Llmgw-Cost-Usd"

// setCost sets costHeader for the usage u of the model that served call.
func (s *Server) setCost(w http.ResponseWriter, r *http.Request, call *pipeline.Call, u llm.Usage) {
	p := s.current(r).Pricer
	if p == nil || call == nil || call.Provider == "" || u.IsZero() {
		return
	}
	c, ok := p.Cost(call.Provider, call.UpstreamModel, u)
	if !ok {
		return
	}
	var buf [32]byte
	w.Header()[costHeader] = []string{string(c.Total.AppendText(buf[:0]))}
}
