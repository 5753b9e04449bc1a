package ga4

import (
	"net/http"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     http.Header
		kind       string
		reason     string
		credential bool
		after      time.Duration
	}{
		{"204 accepted", 204, nil, "ok", "", false, 0},
		{"200 accepted", 200, nil, "ok", "", false, 0},
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"9"}}, "retry", "throttled", false, 9 * time.Second},
		{"429 without", 429, nil, "retry", "throttled", false, DefaultThrottleBackoff},
		{"500", 500, nil, "retry", "platform_unavailable", false, 0},
		{"408", 408, nil, "retry", "timeout", false, 0},
		{"403 secret", 403, nil, "permanent", "auth_error", true, 0},
		{"413", 413, nil, "permanent", "payload_too_large", false, 0},
		{"400", 400, nil, "permanent", "http_400", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			err := classify(tt.status, h)
			switch tt.kind {
			case "ok":
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			case "retry":
				re, ok := destination.AsRetryable(err)
				if !ok || re.Reason != tt.reason || (tt.after != 0 && re.After != tt.after) {
					t.Fatalf("err = %#v, want retryable %s after %s", err, tt.reason, tt.after)
				}
			case "permanent":
				pe, ok := destination.AsPermanent(err)
				if !ok || pe.Reason != tt.reason || pe.Credential != tt.credential {
					t.Fatalf("err = %#v, want permanent %s", err, tt.reason)
				}
			}
		})
	}
}

// TestValidationResults: the validation server's messages, in GA4's
// documented form, become per-event results.
func TestValidationResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want []destination.Status
		code string
	}{
		{"valid", `{"validationMessages":[]}`, []destination.Status{destination.Delivered, destination.Delivered}, ""},
		{"index in the description", `{"validationMessages":[{"fieldPath":"events","description":"Event at index: [1] has invalid name [_bad]. Names must start with an alphabetic character.","validationCode":"NAME_INVALID"}]}`,
			[]destination.Status{destination.Delivered, destination.Rejected}, "name_invalid"},
		{"index in the path", `{"validationMessages":[{"fieldPath":"events[0].params.currency","description":"bad","validationCode":"VALUE_INVALID"}]}`,
			[]destination.Status{destination.Rejected, destination.Delivered}, "value_invalid"},
		{"request level", `{"validationMessages":[{"fieldPath":"client_id","description":"required","validationCode":"VALUE_REQUIRED"}]}`,
			[]destination.Status{destination.Rejected, destination.Rejected}, "value_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := validationResults(2, []byte(tt.body))
			if err != nil || len(res) != 2 {
				t.Fatalf("%+v %v", res, err)
			}
			for i, w := range tt.want {
				if res[i].Status != w || (w == destination.Rejected && res[i].Reason != tt.code) {
					t.Errorf("event %d = %+v, want %v %s", i, res[i], w, tt.code)
				}
			}
		})
	}
	if _, err := validationResults(1, []byte(`<html>`)); err == nil {
		t.Error("unreadable answer: want an error")
	}
}
