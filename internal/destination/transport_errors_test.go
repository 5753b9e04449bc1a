package destination

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestTransportFailureRedacts(t *testing.T) {
	t.Parallel()
	const secret = "tok/en+1"
	tests := []struct {
		name       string
		err        error
		wantReason string
	}{
		{"url error with token in query", &url.Error{Op: "Post", URL: "https://x.example/?t=" + url.QueryEscape(secret), Err: errors.New("connection refused")}, "network_error"},
		{"deadline", &url.Error{Op: "Post", URL: "https://x.example/", Err: context.DeadlineExceeded}, "timeout"},
		{"secret in the message itself", errors.New("bad header Bearer " + secret), "network_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			re := TransportFailure(tt.err, secret, "")
			if re.Reason != tt.wantReason || strings.Contains(re.Detail, secret) || strings.Contains(re.Detail, url.QueryEscape(secret)) || strings.Contains(re.Detail, "x.example") {
				t.Errorf("TransportFailure = %+v", re)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		min  time.Duration
		max  time.Duration
	}{
		{"absent", "", 0, 0},
		{"seconds", "7", 7 * time.Second, 7 * time.Second},
		{"negative", "-3", 0, 0},
		{"garbage", "soon", 0, 0},
		{"date ahead", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 58 * time.Minute, time.Hour},
		{"date past", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ParseRetryAfter(http.Header{"Retry-After": {tt.in}})
			if got < tt.min || got > tt.max {
				t.Errorf("ParseRetryAfter(%q) = %s, want between %s and %s", tt.in, got, tt.min, tt.max)
			}
		})
	}
}

func TestPlatformMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		hidden  []string
		kept    []string
		maxSize int
	}{
		{"quoted values", `ERROR :: /user/firstName :: value "Johnathan" is invalid; 'Smith' too`, []string{"Johnathan", "Smith"}, []string{"/user/firstName"}, 0},
		{"bare email", "user.email jane.doe@example.com is not hashed", []string{"jane.doe@example.com"}, []string{"user.email", "not hashed"}, 0},
		{"control characters", "line\nbreak\x00", []string{"\n", "\x00"}, []string{"line", "break"}, 0},
		{"bounded", strings.Repeat("é", 300), nil, nil, maxPlatformMessage + len("…")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := PlatformMessage(tt.in)
			for _, h := range tt.hidden {
				if strings.Contains(got, h) {
					t.Errorf("PlatformMessage = %q still holds %q", got, h)
				}
			}
			for _, k := range tt.kept {
				if !strings.Contains(got, k) {
					t.Errorf("PlatformMessage = %q lost %q", got, k)
				}
			}
			if tt.maxSize > 0 && len(got) > tt.maxSize {
				t.Errorf("PlatformMessage is %d bytes, want at most %d", len(got), tt.maxSize)
			}
		})
	}
}
