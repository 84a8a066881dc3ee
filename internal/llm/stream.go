package llm

import (
	"errors"
	"io"
	"sync"
)

// Stream yields a response incrementally; a non-streaming call is a Stream of
// one Chunk. Recv returns io.EOF after the last chunk. Implementations need
// not be safe for concurrent Recv calls, but Close may be called from another
// goroutine to abort a Recv in progress.
//
// A chunk is the caller's until the next Recv that returns a chunk: a stream
// may reuse it, with the Raw bytes and the Usage it points to, for that next
// one, so that relaying a stream allocates nothing per chunk. A caller that
// keeps a chunk, its Raw or its Usage longer keeps a copy. A Recv that
// returns an error, and Close, leave the last chunk intact. The other fields
// (strings, Choices and what they hold) are never reused.
type Stream interface {
	// Recv returns the next chunk, or io.EOF after the last one. The chunk
	// may be reused by the next Recv that returns one (see Stream).
	Recv() (*Chunk, error)
	// Usage returns the best-known totals; final after io.EOF or Close.
	Usage() Usage
	// Close aborts the upstream body; it is idempotent.
	Close() error
}

// SliceStream is a Stream over chunks already in memory.
type SliceStream struct {
	chunks []*Chunk
	err    error
	usage  Usage
	mu     sync.Mutex
	closed bool
}

// NewSliceStream returns a Stream yielding chunks, then err (io.EOF if nil).
// Its Usage is the last Usage carried by a chunk that has been received.
func NewSliceStream(err error, chunks ...*Chunk) *SliceStream {
	return &SliceStream{chunks: chunks, err: err}
}

// Recv implements Stream.
func (s *SliceStream) Recv() (*Chunk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStreamClosed
	}
	if len(s.chunks) == 0 {
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	c := s.chunks[0]
	s.chunks = s.chunks[1:]
	if c.Usage != nil {
		s.usage = *c.Usage
	}
	return c, nil
}

// Usage implements Stream.
func (s *SliceStream) Usage() Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage
}

// Close implements Stream.
func (s *SliceStream) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// ErrStreamClosed is returned by Recv after Close.
var ErrStreamClosed = errors.New("llm: stream closed")

// Buffered is implemented by streams that can tell whether their next chunk
// is already in hand (an optional capability, discovered by type assertion
// like http.Flusher). A relay writing a stream to a client holds its flush
// while it is true, so that events that arrived together leave together.
type Buffered interface {
	// Buffered reports whether the next Recv returns without waiting for
	// the upstream. A false negative only costs a flush; a false positive
	// would delay the chunk before it, so an implementation that cannot be
	// sure says false.
	Buffered() bool
}

// NextBuffered reports whether s implements Buffered and its next chunk is
// already in hand.
func NextBuffered(s Stream) bool {
	b, ok := s.(Buffered)
	return ok && b.Buffered()
}
