package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testWebhookSecret = "whsec_test-Secret"

// hookRequest is one request to the receiver, signed unless a field says
// otherwise.
type hookRequest struct {
	body        []byte
	secret      string // signing secret; testWebhookSecret when empty
	ts          int64  // 0: the sandbox clock's now
	contentType string // "" means application/json
	sig         string // overrides the computed signature
	batchID     string // overrides the computed batch id
	omit        string // a header to leave out
}

func validHookEvent(id string) map[string]any {
	return map[string]any{
		"event_id":   id,
		"event_name": "purchase",
		"event_time": "2026-03-01T11:59:00Z",
		"source":     "web",
		"user": map[string]any{
			"email_sha256": sha("jane.doe@example.com"),
			"phone_sha256": sha("442079460958"),
		},
		"click_ids":  map[string]any{"gclid": "Cj0KCQiA_AbC-123"},
		"cookies":    map[string]any{"fbp": "fb.1.1763632800000.1234567890"},
		"properties": map[string]any{"value": 59.9, "currency": "EUR", "order_id": "ord-" + id},
	}
}

func hookBody(events ...any) []byte { return mustJSON(map[string]any{"events": events}) }

func hookSign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func postHook(t testing.TB, ts *httptest.Server, endpoint string, hr hookRequest) response {
	t.Helper()
	if hr.secret == "" {
		hr.secret = testWebhookSecret
	}
	if hr.ts == 0 {
		hr.ts = testNow.Unix()
	}
	if hr.contentType == "" {
		hr.contentType = "application/json"
	}
	stamp := strconv.FormatInt(hr.ts, 10)
	if hr.sig == "" {
		hr.sig = hookSign(hr.secret, stamp, hr.body)
	}
	if hr.batchID == "" {
		sum := sha256.Sum256(hr.body)
		hr.batchID = hex.EncodeToString(sum[:8])
	}
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/hooks/"+endpoint, bytes.NewReader(hr.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", hr.contentType)
	req.Header.Set("X-Signalpipe-Timestamp", stamp)
	req.Header.Set("X-Signalpipe-Signature", hr.sig)
	req.Header.Set("X-Signalpipe-Batch-Id", hr.batchID)
	if hr.omit != "" {
		req.Header.Del(hr.omit)
	}
	return do(t, ts.Client(), req)
}

// hookError decodes the receiver's {"error": "..."} body.
func (r response) hookError(t testing.TB) string {
	t.Helper()
	var e map[string]string
	if err := json.Unmarshal(r.body, &e); err != nil || len(e) != 1 || e["error"] == "" {
		t.Fatalf("error body %s: want {\"error\": \"...\"}", r.body)
	}
	return e["error"]
}

func TestWebhookContract(t *testing.T) {
	t.Parallel()
	big := validHookEvent("big")
	big["properties"] = map[string]any{"order_id": strings.Repeat("x", webhookMaxBodyBytes)}
	tooMany := make([]any, webhookMaxEvents+1)
	for i := range tooMany {
		tooMany[i] = validHookEvent("m" + strconv.Itoa(i))
	}
	with := func(key string, v any) map[string]any {
		ev := validHookEvent("e1")
		ev[key] = v
		return ev
	}
	without := func(key string) map[string]any {
		ev := validHookEvent("e1")
		delete(ev, key)
		return ev
	}
	tests := []struct {
		name       string
		in         hookRequest
		wantStatus int
		wantMsg    string // a substring of the error
	}{
		{"accepted", hookRequest{body: hookBody(validHookEvent("a1"), validHookEvent("a2"))}, 200, ""},
		{"json with charset", hookRequest{body: hookBody(validHookEvent("a1")), contentType: "application/json; charset=utf-8"}, 200, ""},
		{"wrong secret", hookRequest{body: hookBody(validHookEvent("a1")), secret: "other"}, 401, "does not match"},
		{"signature without prefix", hookRequest{body: hookBody(validHookEvent("a1")), sig: strings.Repeat("ab", 32)}, 401, "sha256=<64 hex digits>"},
		{"no signature", hookRequest{body: hookBody(validHookEvent("a1")), omit: "X-Signalpipe-Signature"}, 401, "headers are required"},
		{"no timestamp", hookRequest{body: hookBody(validHookEvent("a1")), omit: "X-Signalpipe-Timestamp"}, 401, "headers are required"},
		{"timestamp 6 minutes old", hookRequest{body: hookBody(validHookEvent("a1")), ts: testNow.Add(-6 * time.Minute).Unix()}, 401, "tolerance"},
		{"timestamp 6 minutes ahead", hookRequest{body: hookBody(validHookEvent("a1")), ts: testNow.Add(6 * time.Minute).Unix()}, 401, "tolerance"},
		{"timestamp 4 minutes old is fine", hookRequest{body: hookBody(validHookEvent("a1")), ts: testNow.Add(-4 * time.Minute).Unix()}, 200, ""},
		{"text/plain", hookRequest{body: hookBody(validHookEvent("a1")), contentType: "text/plain"}, 415, "application/json"},
		{"batch id mismatch", hookRequest{body: hookBody(validHookEvent("a1")), batchID: "0000000000000000"}, 400, "Batch-Id"},
		{"no batch id", hookRequest{body: hookBody(validHookEvent("a1")), omit: "X-Signalpipe-Batch-Id"}, 400, "Batch-Id"},
		{"not an object", hookRequest{body: []byte(`[1]`)}, 400, "JSON object"},
		{"unknown top-level key", hookRequest{body: []byte(`{"events":[],"data":[]}`)}, 400, "unknown top-level key"},
		{"no events", hookRequest{body: hookBody()}, 400, "1 to 1000"},
		{"too many events", hookRequest{body: hookBody(tooMany...)}, 400, "1 to 1000"},
		{"missing event_id", hookRequest{body: hookBody(without("event_id"))}, 400, "events[0].event_id"},
		{"missing event_name", hookRequest{body: hookBody(without("event_name"))}, 400, "events[0].event_name"},
		{"bad event_time", hookRequest{body: hookBody(with("event_time", 1795168800))}, 400, "events[0].event_time"},
		{"raw email key", hookRequest{body: hookBody(with("user", map[string]any{"email": "x"}))}, 400, "events[0].user.email"},
		{"raw phone key", hookRequest{body: hookBody(with("user", map[string]any{"phone": "+1 650 555 1212"}))}, 400, "events[0].user.phone"},
		{"raw ip key", hookRequest{body: hookBody(validHookEvent("ok"), with("context", map[string]any{"ip": "198.51.100.23"}))}, 400, "events[1].context.ip"},
		{"email-looking value anywhere", hookRequest{body: hookBody(with("properties", map[string]any{"order_id": "jane.doe@example.com"}))}, 400, "e-mail address"},
		{"hashed key with raw value", hookRequest{body: hookBody(with("user", map[string]any{"email_sha256": "jane"}))}, 400, "not a lowercase SHA-256"},
		{"oversized body", hookRequest{body: hookBody(big)}, 413, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb, ts := startSandbox(t, Options{WebhookSecret: testWebhookSecret})
			r := postHook(t, ts, "crm", tt.in)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, body %s; want %d", r.status, r.body, tt.wantStatus)
			}
			st := sb.Webhook().Stats()
			if tt.wantStatus != 200 {
				if msg := r.hookError(t); !strings.Contains(msg, tt.wantMsg) {
					t.Errorf("error %q; want it to mention %q", msg, tt.wantMsg)
				}
				if strings.Contains(string(r.body), "jane.doe") || strings.Contains(string(r.body), "650 555") {
					t.Errorf("error %s repeats personal data", r.body)
				}
				if st.Rejected != 1 || st.Accepted != 0 || len(sb.Webhook().Events()) != 0 {
					t.Errorf("stats %+v after a refusal; want 1 rejected, nothing recorded", st)
				}
				return
			}
			if st.Rejected != 0 || st.Accepted == 0 {
				t.Errorf("stats %+v; want events accepted", st)
			}
		})
	}
}

// TestWebhookSignatureVector checks the receiver against a signature computed
// outside Go: printf '%s' '1795168800.{"events":[]}' | openssl dgst -sha256 -hmac 'whsec_test-Secret'.
// The empty batch is then refused for its shape (400), which proves the
// signature check passed.
func TestWebhookSignatureVector(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Unix(1795168800, 0)}
	_, ts := startSandbox(t, Options{WebhookSecret: testWebhookSecret, Clock: clock.Now})
	const sig = "sha256=d327c278e01475672a3f0aaf7d9c5892840963ed36587c8c5c70b641565898cf"
	r := postHook(t, ts, "x", hookRequest{body: []byte(`{"events":[]}`), ts: 1795168800, sig: sig})
	if r.status != http.StatusBadRequest || !strings.Contains(r.hookError(t), "1 to 1000") {
		t.Fatalf("status %d, body %s; want 400 for the empty batch", r.status, r.body)
	}
	r = postHook(t, ts, "x", hookRequest{body: []byte(`{"events": []}`), ts: 1795168800, sig: sig})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("changed body: status %d; want 401", r.status)
	}
}

func TestWebhookWithoutSecretAcceptsAnySignature(t *testing.T) {
	t.Parallel()
	sb, ts := startSandbox(t, Options{})
	postHook(t, ts, "x", hookRequest{body: hookBody(validHookEvent("a")), secret: "whatever"}).mustOK(t)
	if r := postHook(t, ts, "x", hookRequest{body: hookBody(validHookEvent("b")), omit: "X-Signalpipe-Signature"}); r.status != http.StatusUnauthorized {
		t.Errorf("no signature header: status %d; want 401 even without a secret", r.status)
	}
	if n := len(sb.Webhook().Events()); n != 1 {
		t.Errorf("recorded %d events; want 1", n)
	}
}

func (r response) mustOK(t testing.TB) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s; want 200", r.status, r.body)
	}
}

func TestWebhookRecordsAndCounts(t *testing.T) {
	t.Parallel()
	sb, ts := startSandbox(t, Options{WebhookSecret: testWebhookSecret})
	postHook(t, ts, "crm", hookRequest{body: hookBody(validHookEvent("a"), validHookEvent("b"))}).mustOK(t)
	postHook(t, ts, "crm", hookRequest{body: hookBody(validHookEvent("a"))}).mustOK(t)   // duplicate
	postHook(t, ts, "other", hookRequest{body: hookBody(validHookEvent("a"))}).mustOK(t) // other endpoint: not a duplicate
	postHook(t, ts, "crm", hookRequest{body: hookBody(validHookEvent("c")), secret: "bad"})

	evs := sb.Webhook().Events()
	if len(evs) != 4 {
		t.Fatalf("recorded %d events; want 4", len(evs))
	}
	first := evs[0]
	if first.Endpoint != "crm" || first.EventID != "a" || first.EventName != "purchase" || first.Source != "web" || !first.ReceivedAt.Equal(testNow) {
		t.Errorf("first event %+v", first)
	}
	var raw map[string]any
	if err := json.Unmarshal(first.Raw, &raw); err != nil || raw["event_id"] != "a" {
		t.Errorf("raw %s: %v", first.Raw, err)
	}
	if evs[3].Endpoint != "other" {
		t.Errorf("last event endpoint %q; want other", evs[3].Endpoint)
	}
	want := WebhookStats{Requests: 4, Accepted: 4, Rejected: 1, Duplicates: 1}
	if got := sb.Webhook().Stats(); got != want {
		t.Errorf("stats %+v; want %+v", got, want)
	}

	stats := decodeJSON[WebhookStats](t, admin(t, ts, "GET", "/_sandbox/webhook/stats", "", ""))
	if stats != want {
		t.Errorf("admin stats %+v; want %+v", stats, want)
	}
	list := decodeJSON[struct {
		Count  int            `json:"count"`
		Events []WebhookEvent `json:"events"`
	}](t, admin(t, ts, "GET", "/_sandbox/webhook/events?event_id=a&limit=10", "", ""))
	if list.Count != 3 || len(list.Events) != 3 || list.Events[0].Endpoint != "crm" || len(list.Events[0].Raw) == 0 {
		t.Errorf("admin events %+v; want the 3 copies of a", list)
	}
	admin(t, ts, "POST", "/_sandbox/webhook/reset", "", "")
	if got := sb.Webhook().Stats(); got != (WebhookStats{}) || len(sb.Webhook().Events()) != 0 {
		t.Errorf("after reset: stats %+v", got)
	}
}

func TestWebhookFault(t *testing.T) {
	t.Parallel()
	sb, ts := startSandbox(t, Options{WebhookSecret: testWebhookSecret})
	sb.SetFault("webhook", Fault{Status: http.StatusServiceUnavailable, RetryAfter: 1500 * time.Millisecond, Requests: 1})
	r := postHook(t, ts, "crm", hookRequest{body: hookBody(validHookEvent("a"))})
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "2" || !strings.Contains(r.hookError(t), "injected fault") {
		t.Fatalf("faulted answer: status %d, Retry-After %q, body %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	postHook(t, ts, "crm", hookRequest{body: hookBody(validHookEvent("a"))}).mustOK(t)
	if got, want := sb.Webhook().Stats(), (WebhookStats{Requests: 2, Accepted: 1, Faulted: 1}); got != want {
		t.Errorf("stats %+v; want %+v", got, want)
	}
	// Faults are also set by flag and by the admin API.
	if p, f, err := ParseFaultFlag("webhook:status=500,requests=1"); err != nil || p != "webhook" || f.Status != 500 {
		t.Errorf("ParseFaultFlag: %q %+v %v", p, f, err)
	}
	admin(t, ts, "POST", "/_sandbox/faults", "", `{"platform":"webhook","status":429,"requests":1}`)
	if r := postHook(t, ts, "crm", hookRequest{body: hookBody(validHookEvent("b"))}); r.status != http.StatusTooManyRequests {
		t.Errorf("admin fault: status %d; want 429", r.status)
	}
}
