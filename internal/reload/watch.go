package reload

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long the configuration file's directory must be
// quiet before a change is read.
const DefaultDebounce = time.Second

// Watch reloads the configuration when its file changes, until ctx is
// done: it watches the file's directory, waits until debounce has passed
// without an event for the file (or a Kubernetes ..data link), and
// reloads when the file's bytes differ from those the last reload (by any
// trigger) read. It returns
// an error when the directory cannot be watched, and nil when ctx ends.
// Without a Source there is nothing to watch: it waits for ctx.
func (r *Reloader) Watch(ctx context.Context, debounce time.Duration) error {
	if r.o.Source == "" {
		<-ctx.Done()
		return nil
	}
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	path, err := filepath.Abs(r.o.Source)
	if err != nil {
		return err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	dir, base := filepath.Dir(path), filepath.Base(path)
	if err := w.Add(dir); err != nil {
		return err
	}
	if r.o.Watching != nil {
		r.o.Watching()
	}
	// A first look once the directory is watched: a change made between
	// the start's read and now raised no event, and is loaded then.
	timer := time.NewTimer(debounce)
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			name := filepath.Base(ev.Name)
			// The file itself, or a ConfigMap's ..data link or
			// ..<timestamp> directory swapped in under it.
			if name == base || strings.HasPrefix(name, "..") {
				timer.Reset(debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			r.o.Logger.Warn("watching the configuration file", "dir", dir, "err", err.Error())
		case <-timer.C:
			// Unless touched, or already loaded by another trigger.
			reloaded := r.reloadChanged()
			if r.o.Settled != nil {
				r.o.Settled(reloaded)
			}
		}
	}
}

// fileSum returns the SHA-256 of the file at path, its links followed.
func fileSum(path string) ([sha256.Size]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(b), nil
}
