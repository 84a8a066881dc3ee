package hostile

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// raiseFileLimit lifts the soft limit on open files to at least n (within
// the hard limit): the test holds one descriptor per stream, and the
// gateway, which inherits the limit, one more.
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	lim.Cur = min(n, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < n {
		t.Fatalf("cannot open %d files: the hard limit is %d", n, lim.Max)
	}
}

// streamClient opens many connections at once and keeps none.
func streamClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true, MaxIdleConnsPerHost: -1}}
}

// openStream sends a streamed request and returns the response once its
// first line has arrived, with a reader for the rest.
func (g *gateway) openStream(ctx context.Context, c *http.Client, path, body string) (*http.Response, *bufio.Reader, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+g.addr+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+canaryVirtualKey)
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, "", err
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, nil, "", fmt.Errorf("status %d: %.300s", resp.StatusCode, b)
	}
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil {
		resp.Body.Close()
		return nil, nil, "", fmt.Errorf("first line: %v", err)
	}
	return resp, br, first, nil
}

func streamBodyFor(path, model string, words int) string {
	text := strings.TrimSpace(strings.Repeat("word ", words))
	if path == "/v1/messages" {
		return fmt.Sprintf(`{"model":%q,"max_tokens":4096,"stream":true,"messages":[{"role":"user","content":%q}]}`, model, text)
	}
	return fmt.Sprintf(`{"model":%q,"stream":true,"messages":[{"role":"user","content":%q}]}`, model, text)
}

// TestManyStreamsCancelled opens 2,000 streams to the mock model, each
// kept open by a slow token rate, cancels them all at once from the client
// side, and checks that the gateway's goroutines and file descriptors come
// back to their resting level: nothing of a cancelled stream outlives it.
func TestManyStreamsCancelled(t *testing.T) {
	const streams = 2000
	raiseFileLimit(t, 3*streams)
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, `  request_timeout: "120s"`, true))
	// One stream first, so that what is created once is there in the
	// baseline.
	warm := g.do("POST", "/v1/chat/completions", []byte(streamBodyFor("/v1/chat/completions", "mock", 3)), auth(canaryVirtualKey)...)
	if warm.status != 200 {
		t.Fatalf("warm-up stream: %d %s", warm.status, warm.body)
	}
	base := g.baseline(t)

	// The deadline only bounds a gateway that stalls; the test cancels
	// long before it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := streamClient()
	defer client.CloseIdleConnections()
	var opened, done sync.WaitGroup
	errs := make(chan error, streams)
	for i := range streams {
		path := "/v1/chat/completions"
		if i%2 == 1 {
			path = "/v1/messages"
		}
		opened.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			resp, br, _, err := g.openStream(ctx, client, path, streamBodyFor(path, "mock-slow", 100))
			opened.Done()
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, br) // until the cancel cuts it
		}()
	}
	opened.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Errorf("a stream did not open: %v", err)
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d streams did not open", n, streams)
	}
	open := g.goroutines(t)
	t.Logf("%d streams open: %d goroutines, %d fds (baseline %d, %d)", streams, open, g.fds(t), base.goroutines, base.fds)
	cancel()
	done.Wait()
	g.settles(t, base, 20, 30*time.Second)
	g.finish(t)
}

// outcome classifies how a stream ended: "complete" with its protocol's end
// marker, "error" with an in-band error event and no end marker, or "cut"
// with neither.
func outcome(path, body string) string {
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var lastEvent, lastData string
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event:"); ok {
			lastEvent = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "data:"); ok {
			lastData = strings.TrimSpace(v)
		}
	}
	if path == "/v1/messages" {
		switch {
		case lastEvent == "message_stop":
			return "complete"
		case lastEvent == "error" && gjson.Get(lastData, "error.type").Exists():
			return "error"
		}
		return "cut"
	}
	switch {
	case lastData == "[DONE]":
		return "complete"
	case gjson.Get(lastData, "error.message").Exists() && !strings.Contains(body, "data: [DONE]"):
		return "error"
	}
	return "cut"
}

// TestSigtermWithStreamsOpen: SIGTERM with streams open lets the short ones
// finish, ends the ones the drain deadline cuts with the in-band error
// event of their protocol (never a silent cut, never a fake end), and
// exits 0 within the shutdown timeout.
func TestSigtermWithStreamsOpen(t *testing.T) {
	const perKind = 25
	up := newUpstream(t)
	g := startGateway(t, gatewayConfig(up.URL, `  request_timeout: "120s"`, true))
	// gatewayConfig's shutdown_timeout is 5 s: the 1-word-a-second streams
	// of 100 words are cut by it; the 20-words-a-second ones of 10 words
	// end within it.
	type result struct {
		path, model string
		body        string
		err         error
	}
	var results []*result
	for _, path := range []string{"/v1/chat/completions", "/v1/messages"} {
		for _, model := range []string{"mock", "mock-slow"} {
			for range perKind {
				results = append(results, &result{path: path, model: model})
			}
		}
	}
	client := streamClient()
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var opened, done sync.WaitGroup
	for _, r := range results {
		opened.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			words := 10
			if r.model == "mock-slow" {
				words = 100
			}
			resp, br, first, err := g.openStream(ctx, client, r.path, streamBodyFor(r.path, r.model, words))
			opened.Done()
			if err != nil {
				r.err = err
				return
			}
			defer resp.Body.Close()
			rest, err := io.ReadAll(br)
			r.body, r.err = first+string(rest), err
		}()
	}
	opened.Wait()
	start := time.Now()
	g.signal(t, syscall.SIGTERM)
	done.Wait()
	select {
	case <-g.exited:
		if g.err != nil {
			t.Errorf("exit after SIGTERM: %v", g.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running %v after SIGTERM", time.Since(start))
	}
	// One failure reported per kind and way, with the count.
	counts := map[string]int{}
	for _, r := range results {
		kind := r.model + r.path
		o := outcome(r.path, r.body)
		var problem string
		switch {
		case r.err != nil && r.body == "":
			problem = fmt.Sprintf("no stream: %v", r.err)
		case o == "cut":
			problem = fmt.Sprintf("cut without an end or an error event (read error %v): %s", r.err, tail(r.body, 300))
		case r.model == "mock" && o != "complete":
			problem = "a short stream did not complete during the drain: " + tail(r.body, 300)
		}
		key := kind + " " + o
		if problem != "" {
			key = kind + " FAILED"
		}
		if counts[key]++; problem != "" && counts[key] == 1 {
			t.Errorf("%s: %s", kind, problem)
		}
	}
	t.Logf("outcomes: %v", counts)
	g.checkLog(t)
}
