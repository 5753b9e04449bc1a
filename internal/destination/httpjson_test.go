package destination

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string
		min   time.Duration
		max   time.Duration
	}{
		{"absent", "", 0, 0},
		{"seconds", "12", 12 * time.Second, 12 * time.Second},
		{"negative", "-3", 0, 0},
		{"garbage", "soon", 0, 0},
		{"date in the future", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 58 * time.Minute, time.Hour},
		{"date in the past", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			if got := ParseRetryAfter(h); got < tt.min || got > tt.max {
				t.Errorf("ParseRetryAfter(%q) = %s, want between %s and %s", tt.value, got, tt.min, tt.max)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	const token = "a/b c"
	err := &url.Error{Op: "Post", URL: "https://x/?access_token=" + url.QueryEscape(token), Err: errors.New("dial: refused for " + token)}
	got := Redact(err, token, "")
	if strings.Contains(got, "a/b") || strings.Contains(got, url.QueryEscape(token)) || strings.Contains(got, "https://x") || !strings.Contains(got, "[REDACTED]") {
		t.Errorf("Redact = %q", got)
	}
}

func TestDataBody(t *testing.T) {
	t.Parallel()
	body := DataBody([]Prepared{{Payload: []byte(`{"a":1}`)}, {Payload: []byte(`{"b":2}`)}})
	var got struct {
		Data []map[string]int `json:"data"`
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Data) != 2 || got.Data[1]["b"] != 2 {
		t.Errorf("DataBody = %s (%v)", body, err)
	}
}
