package idempotency

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
)

// Result is a finished response as it is kept: its status, the headers
// worth replaying and its body (for a stream, its Server-Sent Events
// bytes).
type Result struct {
	Status int
	Header http.Header
	Body   []byte
}

// size is what r costs to keep, roughly: its body and headers.
func (r *Result) size() int64 {
	n := int64(len(r.Body)) + 64
	for k, vs := range r.Header {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 16)
		}
	}
	return n
}

// keptHeader reports whether the response header k is replayed. Headers
// that describe the connection, the request or the moment it was served
// (request ID, rate limit counts, Date, Retry-After) are not.
func keptHeader(k string) bool {
	switch k {
	case "X-Request-Id", "Connection", "Content-Length", "Transfer-Encoding", "Date", "Set-Cookie",
		"Retry-After", ReplayedHeader, "Keep-Alive", "Trailer":
		return false
	}
	return !strings.HasPrefix(k, "X-Ratelimit-")
}

// keptHeaders returns the headers of h that a replay carries.
func keptHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if keptHeader(k) {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}

// The encoding of a record's value in a shared store: a tag, the
// fingerprint, then for a lease the holder's token, for a result the
// status, the headers and the body.
const (
	tagLease  = 'L'
	tagResult = 'R'
)

var errCorrupt = errors.New("idempotency: malformed stored record")

// encodeLease returns the stored value of a lease on fp held by owner.
func encodeLease(fp Fingerprint, owner string) []byte {
	b := make([]byte, 0, 1+len(fp)+len(owner))
	b = append(b, tagLease)
	b = append(b, fp[:]...)
	return append(b, owner...)
}

// encodeResult returns the stored value of res, the answer to fp.
func encodeResult(fp Fingerprint, res *Result) []byte {
	b := make([]byte, 0, res.size()+int64(len(fp))+8)
	b = append(b, tagResult)
	b = append(b, fp[:]...)
	b = binary.AppendUvarint(b, uint64(res.Status))
	b = binary.AppendUvarint(b, uint64(len(res.Header)))
	for k, vs := range res.Header {
		b = appendString(b, k)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	return append(b, res.Body...)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// entry is a decoded stored value: a lease (res nil) or a result.
type entry struct {
	fp    Fingerprint
	owner string
	res   *Result
}

// decode parses a stored value.
func decode(b []byte) (entry, error) {
	var e entry
	if len(b) < 1+len(e.fp) {
		return e, errCorrupt
	}
	tag := b[0]
	copy(e.fp[:], b[1:])
	b = b[1+len(e.fp):]
	switch tag {
	case tagLease:
		e.owner = string(b)
		return e, nil
	case tagResult:
	default:
		return e, errCorrupt
	}
	d := decoder{b: b}
	res := &Result{Status: int(d.uvarint())}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return e, errCorrupt
	}
	res.Header = make(http.Header, n)
	for range n {
		k := d.string()
		m := d.uvarint()
		if m > uint64(len(d.b)) {
			return e, errCorrupt
		}
		vs := make([]string, 0, m)
		for range m {
			vs = append(vs, d.string())
		}
		res.Header[k] = vs
	}
	if d.err {
		return e, errCorrupt
	}
	res.Body = d.b
	e.res = res
	return e, nil
}

// decoder reads uvarints and strings, remembering the first failure.
type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = true
		d.b = nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
