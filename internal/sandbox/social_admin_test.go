package sandbox

import (
	"net/http"
	"testing"
)

// TestAdminServesNewPlatforms: the admin API lists, filters, counts and
// resets the TikTok, Snapchat and Pinterest emulators like the others.
func TestAdminServesNewPlatforms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		platform string
		post     func(t *testing.T, url string)
	}{
		{tiktokName, func(t *testing.T, url string) {
			postTikTok(t, url, "tok", map[string]any{"event_source": "web", "event_source_id": "P", "data": []any{tiktokEvent(testNow, "a"), tiktokEvent(testNow, "b")}})
		}},
		{snapchatName, func(t *testing.T, url string) {
			postSnapchat(t, url, "", "tok", map[string]any{"data": []any{snapchatEvent(testNow, "a"), snapchatEvent(testNow, "b")}})
		}},
		{pinterestName, func(t *testing.T, url string) {
			postPinterest(t, url, "", "tok", map[string]any{"data": []any{pinterestEvent(testNow, "a"), pinterestEvent(testNow, "b")}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			t.Parallel()
			_, ts := startSandbox(t, Options{})
			tt.post(t, ts.URL)
			evs := decodeJSON[struct {
				Count  int              `json:"count"`
				Events []map[string]any `json:"events"`
			}](t, admin(t, ts, "GET", "/_sandbox/"+tt.platform+"/events?event_id=b", "", ""))
			if evs.Count != 1 || evs.Events[0]["event_id"] != "b" {
				t.Errorf("events?event_id=b = %+v", evs)
			}
			if st := decodeJSON[RecorderStats](t, admin(t, ts, "GET", "/_sandbox/"+tt.platform+"/stats", "", "")); st.Requests != 1 || st.Accepted != 2 {
				t.Errorf("stats %+v", st)
			}
			if r := admin(t, ts, "POST", "/_sandbox/"+tt.platform+"/reset", "", ""); r.status != http.StatusOK {
				t.Fatalf("reset: %d %s", r.status, r.body)
			}
			if st := decodeJSON[RecorderStats](t, admin(t, ts, "GET", "/_sandbox/"+tt.platform+"/stats", "", "")); st.Accepted != 0 {
				t.Errorf("after reset: %+v", st)
			}
		})
	}
}

func TestAccountTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		perAccount     map[string]string
		platform       string
		account, token string
		want           bool
	}{
		{"any token", nil, "", "a", "x", true},
		{"empty token never", nil, "", "a", "", false},
		{"platform token", nil, "p", "a", "p", true},
		{"wrong platform token", nil, "p", "a", "x", false},
		{"per account wins", map[string]string{"a": "ta"}, "p", "a", "ta", true},
		{"platform token not for a listed account", map[string]string{"a": "ta"}, "p", "a", "p", false},
		{"unlisted account", map[string]string{"a": "ta"}, "", "b", "ta", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := newAccountTokens(tt.perAccount, tt.platform).accept(tt.account, tt.token); got != tt.want {
				t.Errorf("accept(%q, %q) = %v, want %v", tt.account, tt.token, got, tt.want)
			}
		})
	}
}
