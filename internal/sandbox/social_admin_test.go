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
			if st := decodeJSON[PlatformStats](t, admin(t, ts, "GET", "/_sandbox/"+tt.platform+"/stats", "", "")); st.Requests != 1 || st.Accepted != 2 {
				t.Errorf("stats %+v", st)
			}
			if r := admin(t, ts, "POST", "/_sandbox/"+tt.platform+"/reset", "", ""); r.status != http.StatusOK {
				t.Fatalf("reset: %d %s", r.status, r.body)
			}
			if st := decodeJSON[PlatformStats](t, admin(t, ts, "GET", "/_sandbox/"+tt.platform+"/stats", "", "")); st.Accepted != 0 {
				t.Errorf("after reset: %+v", st)
			}
		})
	}
}

func TestRawEventGet(t *testing.T) {
	t.Parallel()
	r := compactEvent(map[string]any{"user": map[string]any{"em": []any{"x"}}, "n": 1})
	tests := []struct {
		name string
		path []string
		want string
	}{
		{"nested list", []string{"user", "em"}, `["x"]`},
		{"number", []string{"n"}, `1`},
		{"absent", []string{"user", "ph"}, `null`},
		{"through a non-object", []string{"n", "x"}, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(mustJSON(r.Get(tt.path...))); got != tt.want {
				t.Errorf("Get(%v) = %s, want %s", tt.path, got, tt.want)
			}
		})
	}
	if b, _ := RawEvent(nil).MarshalJSON(); string(b) != "null" {
		t.Errorf("empty RawEvent marshals as %s", b)
	}
}
