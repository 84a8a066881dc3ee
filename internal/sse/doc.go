// Package sse reads and writes Server-Sent Events (text/event-stream).
//
// The Reader parses upstream provider streams (OpenAI's "data: {...}" chunks
// ending in "data: [DONE]", Anthropic's typed "event: message_start" ...
// events) following the event stream interpretation of the WHATWG HTML
// specification: LF, CRLF and lone CR line endings, a leading byte order mark,
// comments, fields without a colon, one optional space after the colon,
// multi-line data joined by "\n", and dispatch on a blank line. Events without
// any data line are not dispatched. Input may arrive split at any byte.
//
// The Writer writes the gateway's own streams to clients, one event per call,
// flushed at once so that tokens reach the client as they are produced. A
// relay can do better than one write per event: Reader.Buffered tells it that
// the next event is already in hand, and Writer.Hold lets it write that one
// too before it flushes, the way a byte-copying proxy writes whatever one
// read returned. Each event still leaves as soon as nothing more is in hand.
//
// Where this package departs from the specification, on purpose:
//
//   - Event.Type is "" when the event had no "event" field; the specification
//     would call it "message", but the providers we read never rely on that.
//   - A stream that ends inside an event is reported as io.ErrUnexpectedEOF
//     rather than silently ending, so a truncated upstream is detectable. The
//     incomplete event is still discarded.
//   - Event size is bounded (ErrEventTooLarge), so a broken or hostile upstream
//     cannot make the gateway buffer without limit.
//
// Both sides sit on the streaming hot path. After warm-up, Reader.Next does not
// allocate unless an event brings a new "id" or an event type not among the
// last few seen, and the Writer reuses one encoding buffer. The Reader uses its
// own buffer rather than bufio.Scanner because a lone CR ends a line and the
// event's data is copied out of the line anyway, so the buffer is free to move.
package sse
