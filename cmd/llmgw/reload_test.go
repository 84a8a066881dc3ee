package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

const reloadConfig = `
server:
  admin_token: "${ADMIN}"
providers: [{name: mock, type: mock}]
models: [{name: mock, targets: [{provider: mock, model: mock, weight: %W%}]}]
`

// SIGHUP reloads the configuration, as does a change of the file; a
// broken file is refused while the running configuration serves, and the
// failure is logged at ERROR, counted and shown by GET /admin/v1/config.
func TestServeReloadsOnSIGHUPAndFileChange(t *testing.T) {
	const admin = "admin-token-0123456789abcdef"
	path := writeFile(t, strings.ReplaceAll(reloadConfig, "%W%", "1"))
	cmd, addr, logs := startServe(t, "--config", path, "ADMIN="+admin)
	get := func(p string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+p, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// waitFor polls the status until the attempt count moves: the
	// reload runs in another process. The failure count is read before
	// the status, so that the status is at least as new as the count: a
	// reload failing between the two reads is seen on the next round
	// rather than counted with a status from before it.
	attempts := 0
	waitFor := func(step string) string {
		t.Helper()
		for i := 0; i < 400; i++ {
			failed := int(failures(t, get))
			_, body := get("/admin/v1/config")
			if n := int(gjson.Get(body, "version").Int()) + failed; n > attempts {
				attempts = n
				return body
			}
			time.Sleep(25 * time.Millisecond)
		}
		t.Fatalf("%s: no reload", step)
		return ""
	}
	_, body := get("/admin/v1/config")
	if gjson.Get(body, "version").Int() != 1 || gjson.Get(body, "source").String() != path {
		t.Fatalf("at start: %s", body)
	}
	attempts = 1
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	body = waitFor("SIGHUP")
	if gjson.Get(body, "version").Int() != 2 || gjson.Get(body, "last_trigger").String() != "signal" || gjson.Get(body, "last_result").String() != "success" {
		t.Fatalf("after SIGHUP: %s", body)
	}
	hash := gjson.Get(body, "hash").String()
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(reloadConfig, "%W%", "2")), 0o600); err != nil {
		t.Fatal(err)
	}
	body = waitFor("file change")
	if gjson.Get(body, "version").Int() != 3 || gjson.Get(body, "last_trigger").String() != "file" || gjson.Get(body, "hash").String() == hash {
		t.Fatalf("after the file changed: %s", body)
	}
	if _, targets := get("/admin/v1/targets"); gjson.Get(targets, "models.0.targets.0.weight").Int() != 2 {
		t.Fatalf("the new weight is not in force: %s", targets)
	}
	// A broken file: refused, and the gateway serves on.
	if err := os.WriteFile(path, []byte("providers: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	body = waitFor("broken file")
	if gjson.Get(body, "version").Int() != 3 || gjson.Get(body, "last_result").String() != "failure" || !strings.Contains(gjson.Get(body, "last_error").String(), "yaml") {
		t.Fatalf("after a broken file: %s", body)
	}
	if code, _ := get("/v1/models"); code != 200 {
		t.Fatalf("/v1/models answered %d after a refused reload", code)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"ERROR","msg":"configuration not reloaded; the running configuration keeps serving"`) ||
		strings.Contains(logs.String(), admin) {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// failures reads llmgw_config_reloads_total{result="failure"}.
func failures(t *testing.T, get func(string) (int, string)) float64 {
	t.Helper()
	_, m := get("/metrics")
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, `llmgw_config_reloads_total{result="failure"} `) {
			var v float64
			_, _ = fmt.Sscan(strings.Fields(line)[1], &v)
			return v
		}
	}
	return 0
}

// serve --watch-config=false leaves a changed file alone until a SIGHUP;
// --watch-config=true (the default) loads it by itself.
func TestServeWatchConfigFlag(t *testing.T) {
	const admin = "admin-token-0123456789abcdef"
	for _, watch := range []bool{true, false} {
		// The subtest's name is in the file's path: startServe reads an
		// argument with "=" as an environment variable.
		name := map[bool]string{true: "watched", false: "unwatched"}[watch]
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, strings.ReplaceAll(reloadConfig, "%W%", "1"))
			cmd, addr, logs := startServe(t, "--config", path, fmt.Sprintf("--watch-config=%t", watch), "ADMIN="+admin)
			config := func() string {
				t.Helper()
				req, _ := http.NewRequest("GET", "http://"+addr+"/admin/v1/config", nil)
				req.Header.Set("Authorization", "Bearer "+admin)
				resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return string(b)
			}
			// The watcher is up once the gateway is ready; give it a
			// moment on a loaded machine before the file changes.
			time.Sleep(200 * time.Millisecond)
			if err := os.WriteFile(path, []byte(strings.ReplaceAll(reloadConfig, "%W%", "2")), 0o600); err != nil {
				t.Fatal(err)
			}
			// The watch debounces for a second: a watched file is loaded
			// within ten on a loaded machine (the wait ends when it is),
			// and three say that an unwatched one stayed.
			wait := 3 * time.Second
			if watch {
				wait = 10 * time.Second
			}
			var body string
			for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if body = config(); gjson.Get(body, "version").Int() > 1 {
					break
				}
			}
			loaded := gjson.Get(body, "version").Int() == 2 && gjson.Get(body, "last_trigger").String() == "file"
			if loaded != watch {
				t.Fatalf("--watch-config=%t: after the file changed: %s", watch, body)
			}
			if !watch {
				// The change is there for a SIGHUP to load.
				if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 400 && gjson.Get(body, "version").Int() < 2; i++ {
					time.Sleep(25 * time.Millisecond)
					body = config()
				}
				if gjson.Get(body, "version").Int() != 2 || gjson.Get(body, "last_trigger").String() != "signal" {
					t.Fatalf("after SIGHUP: %s", body)
				}
			}
			// The logs are read once the process is gone.
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit: %v\n%s", err, logs.String())
			}
			if said := strings.Contains(logs.String(), "the configuration file is not watched"); said == watch {
				t.Errorf("--watch-config=%t: the log says the file is not watched: %t\n%s", watch, said, logs.String())
			}
		})
	}
}
