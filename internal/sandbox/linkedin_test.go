package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

const testLinkedInToken = "li-test-token"

// validLinkedInEvent returns a conversion event that satisfies every rule.
func validLinkedInEvent(now time.Time, id string) map[string]any {
	return map[string]any{
		"conversion":           "urn:lla:llaPartnerConversion:123",
		"conversionHappenedAt": now.Add(-time.Hour).UnixMilli(),
		"conversionValue":      map[string]any{"currencyCode": "USD", "amount": "142.52"},
		"eventId":              id,
		"user": map[string]any{
			"userIds":  []any{map[string]any{"idType": "SHA256_EMAIL", "idValue": sha("john_smith@gmail.com")}},
			"userInfo": map[string]any{"firstName": "John", "lastName": "Smith", "countryCode": "US"},
		},
	}
}

// postLinkedIn sends body as a BATCH_CREATE (or a single create when batch
// is false) with headers as the destination sends them, then applies edit.
func postLinkedIn(t *testing.T, url string, client *http.Client, body any, batch bool, edit func(http.Header)) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/rest/conversionEvents", bytes.NewReader(mustJSON(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testLinkedInToken)
	req.Header.Set("LinkedIn-Version", "202601")
	req.Header.Set("X-Restli-Protocol-Version", "2.0.0")
	if batch {
		req.Header.Set("X-RestLi-Method", "BATCH_CREATE")
	}
	if edit != nil {
		edit(req.Header)
	}
	return do(t, client, req)
}

// TestLinkedInRequestRejections: refusals of a whole request, with LinkedIn's
// error body {status, code, message}; nothing is recorded.
func TestLinkedInRequestRejections(t *testing.T) {
	t.Parallel()
	one := func() any { return map[string]any{"elements": []any{validLinkedInEvent(testNow, "e1")}} }
	tests := []struct {
		name     string
		body     func() any
		edit     func(http.Header)
		wantCode int
		wantErr  string
	}{
		{"no token", one, func(h http.Header) { h.Del("Authorization") }, 401, "INVALID_ACCESS_TOKEN"},
		{"wrong token", one, func(h http.Header) { h.Set("Authorization", "Bearer nope") }, 401, "INVALID_ACCESS_TOKEN"},
		{"no version", one, func(h http.Header) { h.Del("LinkedIn-Version") }, 400, "VERSION_MISSING"},
		{"malformed version", one, func(h http.Header) { h.Set("LinkedIn-Version", "2026-01") }, 400, "VERSION_INVALID"},
		{"sunset version", one, func(h http.Header) { h.Set("LinkedIn-Version", "202401") }, 426, "NONEXISTENT_VERSION"},
		{"future version", one, func(h http.Header) { h.Set("LinkedIn-Version", "202612") }, 426, "NONEXISTENT_VERSION"},
		{"no protocol version", one, func(h http.Header) { h.Del("X-Restli-Protocol-Version") }, 400, "ILLEGAL_ARGUMENT"},
		{"not JSON", one, func(h http.Header) { h.Set("Content-Type", "text/plain") }, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"empty batch", func() any { return map[string]any{"elements": []any{}} }, nil, 400, "ILLEGAL_ARGUMENT"},
		{"batch over 5000", func() any {
			evs := make([]any, linkedinMaxBatch+1)
			for i := range evs {
				evs[i] = validLinkedInEvent(testNow, "e")
			}
			return map[string]any{"elements": evs}
		}, nil, 400, "BATCH_SIZE_EXCEEDED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{BearerTokens: map[string]string{linkedinName: testLinkedInToken}})
			r := postLinkedIn(t, ts.URL, ts.Client(), tt.body(), true, tt.edit)
			var e linkedinError
			if err := json.Unmarshal(r.body, &e); err != nil || r.status != tt.wantCode || e.Status != tt.wantCode || e.Code != tt.wantErr || e.Message == "" {
				t.Fatalf("got %d %s, want %d with code %s", r.status, r.body, tt.wantCode, tt.wantErr)
			}
			if st := s.LinkedIn().Stats(); st.Accepted != 0 || st.Rejected != 1 {
				t.Errorf("stats = %+v, want nothing accepted and one rejected request", st)
			}
		})
	}
}

// TestLinkedInElementRejections: a batch answers 200 with one status per
// element; bad elements get 400 naming their path, good ones 201 and are
// recorded.
func TestLinkedInElementRejections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func(ev map[string]any)
		wantPath string
	}{
		{"unhashed email", func(ev map[string]any) {
			ev["user"].(map[string]any)["userIds"] = []any{map[string]any{"idType": "SHA256_EMAIL", "idValue": "john@example.com"}}
		}, "/user/userIds/0/idValue"},
		{"upper-case hash", func(ev map[string]any) {
			ev["user"].(map[string]any)["userIds"] = []any{map[string]any{"idType": "SHA256_EMAIL", "idValue": strings.ToUpper(sha("a@b.co"))}}
		}, "/user/userIds/0/idValue"},
		{"unknown id type", func(ev map[string]any) {
			ev["user"].(map[string]any)["userIds"] = []any{map[string]any{"idType": "EMAIL", "idValue": "x"}}
		}, "/user/userIds/0/idType"},
		{"no user ids", func(ev map[string]any) { ev["user"].(map[string]any)["userIds"] = []any{} }, "/user/userIds"},
		{"userInfo without last name", func(ev map[string]any) {
			ev["user"].(map[string]any)["userInfo"] = map[string]any{"firstName": "John"}
		}, "/user/userInfo"},
		{"missing conversion", func(ev map[string]any) { delete(ev, "conversion") }, "/conversion"},
		{"conversion not a URN", func(ev map[string]any) { ev["conversion"] = "123" }, "/conversion"},
		{"time in seconds", func(ev map[string]any) { ev["conversionHappenedAt"] = testNow.Unix() }, "/conversionHappenedAt"},
		{"older than 90 days", func(ev map[string]any) {
			ev["conversionHappenedAt"] = testNow.Add(-91 * 24 * time.Hour).UnixMilli()
		}, "/conversionHappenedAt"},
		{"in the future", func(ev map[string]any) { ev["conversionHappenedAt"] = testNow.Add(time.Hour).UnixMilli() }, "/conversionHappenedAt"},
		{"time as string", func(ev map[string]any) { ev["conversionHappenedAt"] = "1795168800000" }, ""},
		{"event id too long", func(ev map[string]any) { ev["eventId"] = strings.Repeat("x", 65) }, "/eventId"},
		{"amount as number", func(ev map[string]any) {
			ev["conversionValue"] = map[string]any{"currencyCode": "USD", "amount": 1.5}
		}, "/conversionValue/amount"},
		{"lower-case currency", func(ev map[string]any) {
			ev["conversionValue"] = map[string]any{"currencyCode": "usd", "amount": "1.5"}
		}, "/conversionValue/currencyCode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			bad := validLinkedInEvent(testNow, "bad")
			tt.edit(bad)
			r := postLinkedIn(t, ts.URL, ts.Client(), map[string]any{"elements": []any{validLinkedInEvent(testNow, "good"), bad}}, true, nil)
			var got struct {
				Elements []linkedinStatus `json:"elements"`
			}
			if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || len(got.Elements) != 2 {
				t.Fatalf("got %d %s, want 200 with two element statuses", r.status, r.body)
			}
			if got.Elements[0].Status != 201 || got.Elements[0].Error != nil {
				t.Errorf("good element: %+v, want 201", got.Elements[0])
			}
			e := got.Elements[1].Error
			if got.Elements[1].Status != 400 || e == nil || e.Status != 400 || !strings.HasPrefix(e.Message, "ERROR :: /elements/1"+tt.wantPath) {
				t.Errorf("bad element: %+v, want 400 at /elements/1%s", got.Elements[1], tt.wantPath)
			}
			if evs := s.LinkedIn().Events(); len(evs) != 1 || evs[0].EventID != "good" {
				t.Errorf("recorded %+v, want only the good event", evs)
			}
		})
	}
}

// TestLinkedInSingleCreateAndDuplicates: without X-RestLi-Method the body is
// one event, answered 201 or with the error itself; a resent eventId is
// counted as a duplicate.
func TestLinkedInSingleCreateAndDuplicates(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{})
	for range 2 {
		if r := postLinkedIn(t, ts.URL, ts.Client(), validLinkedInEvent(testNow, "same"), false, nil); r.status != 201 || r.header.Get("X-Li-Uuid") == "" {
			t.Fatalf("single create: %d %s", r.status, r.body)
		}
	}
	bad := validLinkedInEvent(testNow, "x")
	delete(bad, "user")
	if r := postLinkedIn(t, ts.URL, ts.Client(), bad, false, nil); r.status != 400 || !strings.Contains(string(r.body), "ERROR :: /user/userIds") {
		t.Fatalf("single bad create: %d %s", r.status, r.body)
	}
	if st := s.LinkedIn().Stats(); st.Accepted != 2 || st.Duplicates != 1 {
		t.Errorf("stats = %+v, want 2 accepted, 1 duplicate", st)
	}
}
