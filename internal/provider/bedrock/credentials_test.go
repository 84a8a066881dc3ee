package bedrock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/provider/providertest"
)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// source hands out numbered credentials that expire life after the
// clock's now; each Retrieve waits for gate when gate is set.
type source struct {
	clk  *clock
	life time.Duration
	mu   sync.Mutex
	n    int
	gate chan struct{}
	fail error
}

func (s *source) Retrieve(ctx context.Context) (aws.Credentials, error) {
	s.mu.Lock()
	gate, fail := s.gate, s.fail
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if fail != nil {
		return aws.Credentials{}, fail
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return aws.Credentials{AccessKeyID: fmt.Sprintf("ASIAEXAMPLE%05d", s.n), SecretAccessKey: "secret",
		SessionToken: fmt.Sprintf("token-%d", s.n), CanExpire: true, Expires: s.clk.Now().Add(s.life)}, nil
}

func (s *source) hold() chan struct{} {
	g := make(chan struct{})
	s.mu.Lock()
	s.gate = g
	s.mu.Unlock()
	return g
}

func (s *source) release(g chan struct{}) {
	s.mu.Lock()
	s.gate = nil
	s.mu.Unlock()
	close(g)
}

// Credentials due for refresh are still used while the refresh runs in
// the background: a request is signed at once with the current ones, and
// with the new ones once they came. Only with no valid credentials does a
// request wait.
func TestCredentialsRefreshAhead(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	src := &source{clk: clk, life: time.Hour}
	r := newRefresher(src, clk.Now)
	ctx := context.Background()

	c, err := r.Retrieve(ctx) // none yet: waits for the first
	require.NoError(t, err)
	assert.Equal(t, "ASIAEXAMPLE00001", c.AccessKeyID)

	clk.set(clk.Now().Add(56 * time.Minute)) // within refreshAhead of expiry
	gate := src.hold()
	// The source is blocked: a Retrieve that waited on it would never
	// return, and the test would hang instead of passing.
	for range 3 {
		c, err = r.Retrieve(ctx)
		require.NoError(t, err)
		assert.Equal(t, "ASIAEXAMPLE00001", c.AccessKeyID, "signed with the current credentials during the refresh")
	}
	src.release(gate)
	r.wait()
	c, err = r.Retrieve(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ASIAEXAMPLE00002", c.AccessKeyID)
	assert.Equal(t, 2, src.n, "one refresh for every request that saw it due")

	// Past expiry (less the skew) there is nothing to sign with: wait.
	clk.set(clk.Now().Add(2 * time.Hour))
	c, err = r.Retrieve(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ASIAEXAMPLE00003", c.AccessKeyID)
}

// A failed background refresh keeps the current credentials in use; a
// failure with none to use is the target's error, never the client's,
// and does not quote the source.
func TestCredentialsFailure(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	src := &source{clk: clk, life: 10 * time.Minute}
	r := newRefresher(src, clk.Now)
	_, err := r.Retrieve(context.Background())
	require.NoError(t, err)
	src.mu.Lock()
	src.fail = errors.New("sts: AccessDenied for secret-role-session")
	src.mu.Unlock()
	clk.set(clk.Now().Add(6 * time.Minute)) // short-lived: refreshed halfway
	c, err := r.Retrieve(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ASIAEXAMPLE00001", c.AccessKeyID)
	r.wait()

	clk.set(clk.Now().Add(time.Hour))
	_, err = r.Retrieve(context.Background())
	e := llm.AsError(err)
	require.NotNil(t, e, "%v", err)
	assert.Equal(t, llm.KindUpstream, e.Kind)
	assert.Equal(t, "could not obtain AWS credentials for the upstream", e.PublicMessage())
}

// Through the SDK: every request is signed, none waits on a refresh, and
// the fake sees the new access key once the refresh is done.
func TestCredentialsSigning(t *testing.T) {
	f := providertest.NewBedrock(t)
	clk := &clock{now: time.Now()}
	src := &source{clk: clk, life: time.Hour}
	p := newProvider(t, f, func(c *Config) { c.AccessKeyID, c.SecretAccessKey, c.Credentials = "", "", src })
	p.creds.now = clk.Now
	send := func() string {
		s, err := p.Chat(context.Background(), &llm.ChatRequest{Model: testModel, Messages: []llm.Message{user("hi")}})
		require.NoError(t, err)
		_, err = collect(t, s)
		require.NoError(t, err)
		reqs := f.Requests()
		return reqs[len(reqs)-1].Header.Get("Authorization")
	}
	assert.Contains(t, send(), "Credential=ASIAEXAMPLE00001/")
	clk.set(clk.Now().Add(58 * time.Minute))
	gate := src.hold()
	assert.Contains(t, send(), "Credential=ASIAEXAMPLE00001/", "a request waited on the refresh")
	src.release(gate)
	p.creds.wait()
	assert.Contains(t, send(), "Credential=ASIAEXAMPLE00002/")
	assert.Equal(t, "token-2", f.Requests()[2].Header.Get("X-Amz-Security-Token"))
}
