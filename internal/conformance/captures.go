package conformance

// Wire returns the wire protocol of upstream u, which picks its captures:
// OpenAI's for Azure.
func Wire(u string) string { return wire(u) }

// CaptureText returns the text of the text capture of upstream u, streamed
// or not, as a client receives it.
func CaptureText(u string, stream bool) string {
	if stream {
		return captureText[wire(u)][Stream]
	}
	return captureText[wire(u)][Unary]
}

// StreamCapture returns the file of upstream u's stream capture name (as in
// "stream_text.sse"), for providertest.Load.
func StreamCapture(u, name string) string { return streamCapture(wire(u), name) }
