package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// client sends chat requests to one target.
type client struct {
	hc  *http.Client
	url string
	key string
}

// newClient returns a client of url that authenticates with key.
func newClient(url, key string, conns int) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: max(conns, 2),
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &client{hc: &http.Client{Transport: tr}, url: url, key: key}
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// outcome is what one request measured.
type outcome struct {
	ttfe   time.Duration // streams: until the first event
	events int           // streams: data events before [DONE]
}

// do sends one request and reads the whole answer.
func (c *client) do(ctx context.Context, body []byte, stream bool) (outcome, error) {
	var o outcome
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return o, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.hc.Do(req)
	if err != nil {
		return o, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return o, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	if !stream {
		_, err = io.Copy(io.Discard, resp.Body)
		return o, err
	}
	return readStream(resp.Body, start)
}

// readStream counts the data events of an SSE body up to [DONE].
func readStream(r io.Reader, start time.Time) (outcome, error) {
	var o outcome
	br := bufio.NewReaderSize(r, 16<<10)
	for {
		line, err := br.ReadSlice('\n')
		if data, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			if isDone(data) {
				_, _ = io.Copy(io.Discard, br)
				return o, nil
			}
			if o.events == 0 {
				o.ttfe = time.Since(start)
			}
			o.events++
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // no [DONE]
			}
			return o, err
		}
	}
}

// result is what one load run measured at the client.
type result struct {
	lat     Histogram // whole request (a stream: until [DONE])
	ttfe    Histogram // streams: time to first event
	ok      uint64
	errs    uint64
	events  uint64
	elapsed time.Duration
	lastErr string
}

func (r *result) add(o outcome, lat time.Duration, stream bool, err error) {
	if err != nil {
		r.errs++
		r.lastErr = err.Error()
		return
	}
	r.ok++
	r.lat.Record(lat)
	if stream {
		r.ttfe.Record(o.ttfe)
		r.events += uint64(o.events)
	}
}

func (r *result) merge(o *result) {
	r.lat.Merge(&o.lat)
	r.ttfe.Merge(&o.ttfe)
	r.ok += o.ok
	r.errs += o.errs
	r.events += o.events
	if o.lastErr != "" {
		r.lastErr = o.lastErr
	}
}

// bodyFunc returns the body of the i-th request of a run.
type bodyFunc func(i int) []byte

// runClosed is the closed model: conc workers each send a request as soon
// as the previous one is answered, for d.
func runClosed(ctx context.Context, c *client, conc int, d time.Duration, body bodyFunc, stream bool) *result {
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		mu   sync.Mutex
		all  result
	)
	start := time.Now()
	deadline := start.Add(d)
	for range conc {
		wg.Go(func() {
			var r result
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				o, err := c.do(ctx, body(int(next.Add(1))), stream)
				r.add(o, time.Since(t), stream, err)
			}
			mu.Lock()
			all.merge(&r)
			mu.Unlock()
		})
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	return &all
}

// intendedTime is when the i-th request of an open-model run at rate per
// second starting at start is due.
func intendedTime(start time.Time, rate float64, i int) time.Time {
	return start.Add(time.Duration(float64(i) * float64(time.Second) / rate))
}

// arrivals is the number of requests an open-model run at rate sends in d.
func arrivals(rate float64, d time.Duration) int {
	return int(rate * d.Seconds())
}

// maxOutstanding bounds the requests in flight of an open-model run; past
// it, arrivals count as errors rather than exhausting the machine.
const maxOutstanding = 4096

// runOpen is the open model: requests arrive at a fixed rate whatever the
// target's answers, and each latency is measured from the time the request
// was due, not from when it could be sent, so that a target that falls
// behind is charged for the queue it builds (no coordinated omission).
func runOpen(ctx context.Context, c *client, rate float64, d time.Duration, body bodyFunc, stream bool) *result {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      result
		inflight atomic.Int64
	)
	start := time.Now()
	n := arrivals(rate, d)
	for i := range n {
		due := intendedTime(start, rate, i)
		if w := time.Until(due); w > 0 {
			select {
			case <-time.After(w):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		if inflight.Load() >= maxOutstanding {
			mu.Lock()
			all.add(outcome{}, 0, stream, fmt.Errorf("over %d requests outstanding", maxOutstanding))
			mu.Unlock()
			continue
		}
		inflight.Add(1)
		wg.Go(func() {
			defer inflight.Add(-1)
			o, err := c.do(ctx, body(i), stream)
			lat := time.Since(due)
			mu.Lock()
			all.add(o, lat, stream, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	return &all
}

// chatBody is a small realistic chat request. nonce, when not empty, makes
// the request unique; extra is appended to the object (stream options,
// upstream steering).
func chatBody(model, nonce string, stream bool, tokens int, extra string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"model":"` + model + `","messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly."},{"role":"user","content":"What is the capital of France?`)
	if nonce != "" {
		b.WriteString(" (" + nonce + ")")
	}
	b.WriteString(`"}],"temperature":0.2,"max_tokens":` + strconv.Itoa(tokens))
	if stream {
		b.WriteString(`,"stream":true,"stream_options":{"include_usage":true}`)
	}
	b.WriteString(extra)
	b.WriteString("}")
	return b.Bytes()
}
