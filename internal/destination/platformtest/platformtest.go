// Package platformtest holds the test helpers the HTTP platform packages
// (tiktok, snapchat, pinterest) share: loading a canonical event from
// testdata, preparing fresh copies of it, and checking that a transport
// failure never shows the token. It is imported by tests only.
package platformtest

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// LoadEvent reads a canonical event from a JSON file.
func LoadEvent(t testing.TB, path string) *event.Event {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &ev
}

// Prepared prepares one copy of the event in path per id, each an hour old
// so that every platform's age limit accepts it.
func Prepared(t testing.TB, prepare func(*event.Event) (destination.Prepared, error), path string, ids ...string) []destination.Prepared {
	t.Helper()
	out := make([]destination.Prepared, 0, len(ids))
	for _, id := range ids {
		ev := LoadEvent(t, path)
		ev.EventID = id
		ev.EventTime = time.Now().Add(-time.Hour)
		p, err := prepare(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TokenNeverLeaks opens a destination with token against an address where
// nothing listens and checks that Send fails retryably without the token in
// the error.
func TokenNeverLeaks(t *testing.T, token string, open func(endpoint, token string) (destination.Destination, error)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	d, err := open("http://"+addr, token)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = d.Send(context.Background(), []destination.Prepared{{Payload: []byte(`{}`)}})
	re, ok := destination.AsRetryable(err)
	if !ok || strings.Contains(re.Error(), token) {
		t.Fatalf("err = %v, want a retryable error without the token", err)
	}
}

// Field decodes a recorded event's JSON and returns the value at path
// (object keys from the top), nil when absent; numbers are float64.
func Field(raw json.RawMessage, path ...string) any {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	for _, k := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}
