package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	testUETTag       = "12345678"
	testUETToken     = "uet-test-token"
	testMsclkid      = "5f2a8c1e9b3d4e7fa0c6b2d8e1f4a7c3"
	testOfflineToken = "bing-oauth-token"
)

// validUETEvent returns a UET event that satisfies every rule.
func validUETEvent(now time.Time, id string) map[string]any {
	return map[string]any{
		"eventType": "custom", "eventId": id, "eventName": "purchase", "eventTime": now.Add(-time.Hour).Unix(),
		"adStorageConsent": "G",
		"userData":         map[string]any{"msclkid": testMsclkid, "em": sha("john_smith@gmail.com"), "ph": sha("+16505551212"), "clientIpAddress": "203.0.113.7"},
		"customData":       map[string]any{"value": 142.52, "currency": "USD", "transactionId": id},
	}
}

func postUET(t *testing.T, url string, client *http.Client, tag string, body any, edit func(http.Header)) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/"+tag+"/events", bytes.NewReader(mustJSON(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testUETToken)
	if edit != nil {
		edit(req.Header)
	}
	return do(t, client, req)
}

// uetAnswer is the UET answer as a client reads it.
type uetAnswer struct {
	EventsReceived *int            `json:"eventsReceived"`
	Errors         []uetEventError `json:"errors"`
	Error          *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeUET(t *testing.T, r response) uetAnswer {
	t.Helper()
	var a uetAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	return a
}

// TestUETAcceptsClickIDForms: the click id as in the landing URL, as a
// GUID, and with UET's new-session byte.
func TestUETAcceptsClickIDForms(t *testing.T) {
	t.Parallel()
	for _, clk := range []string{testMsclkid, "cdd4afcc-cb1c-9a4c-ad95-44dd7e5006d5", "cdd4afcccb1c9a4cad9544dd7e5006d5-1"} {
		_, ts := startSandbox(t, Options{})
		ev := validUETEvent(testNow, "e")
		ev["userData"].(map[string]any)["msclkid"] = clk
		r := postUET(t, ts.URL, ts.Client(), testUETTag, map[string]any{"data": []any{ev}}, nil)
		if a := decodeUET(t, r); r.status != 200 || a.EventsReceived == nil || *a.EventsReceived != 1 {
			t.Errorf("msclkid %s: %d %s", clk, r.status, r.body)
		}
	}
}

// TestUETRequestRejections: refusals of a whole request in the UET error
// envelope; nothing recorded.
func TestUETRequestRejections(t *testing.T) {
	t.Parallel()
	one := map[string]any{"data": []any{validUETEvent(testNow, "e1")}}
	tests := []struct {
		name     string
		tag      string
		body     any
		edit     func(http.Header)
		wantCode int
		wantErr  string
	}{
		{"no token", testUETTag, one, func(h http.Header) { h.Del("Authorization") }, 401, "Unauthorized"},
		{"wrong token", testUETTag, one, func(h http.Header) { h.Set("Authorization", "Bearer nope") }, 401, "Unauthorized"},
		{"tag not numeric", "tag-x", one, nil, 404, "TagNotFound"},
		{"empty data", testUETTag, map[string]any{"data": []any{}}, nil, 400, "InvalidRequest"},
		{"over 1000 events", testUETTag, map[string]any{"data": func() []any {
			evs := make([]any, uetMaxBatch+1)
			for i := range evs {
				evs[i] = validUETEvent(testNow, "e")
			}
			return evs
		}()}, nil, 400, "InvalidRequest"},
		{"invalid event without continueOnValidationError", testUETTag, map[string]any{"data": []any{validUETEvent(testNow, "a"), map[string]any{"eventType": "custom"}}}, nil, 400, "InvalidEvents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{BearerTokens: map[string]string{microsoftName: testUETToken}})
			r := postUET(t, ts.URL, ts.Client(), tt.tag, tt.body, tt.edit)
			a := decodeUET(t, r)
			if r.status != tt.wantCode || a.Error == nil || a.Error.Code != tt.wantErr || a.Error.Message == "" {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.wantCode, tt.wantErr)
			}
			if st := s.Microsoft().Stats(); st.Accepted != 0 || st.Rejected != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// TestUETEventRejections: with continueOnValidationError the valid event is
// kept and the invalid one named by index and field.
func TestUETEventRejections(t *testing.T) {
	t.Parallel()
	ud := func(ev map[string]any) map[string]any { return ev["userData"].(map[string]any) }
	tests := []struct {
		name      string
		edit      func(ev map[string]any)
		wantField string
	}{
		{"unhashed email", func(ev map[string]any) { ud(ev)["em"] = "john@example.com" }, "data[1].userData.em"},
		{"unhashed phone", func(ev map[string]any) { ud(ev)["ph"] = "+16505551212" }, "data[1].userData.ph"},
		{"upper-case hash", func(ev map[string]any) { ud(ev)["em"] = strings.ToUpper(sha("a@b.co")) }, "data[1].userData.em"},
		{"malformed msclkid", func(ev map[string]any) { ud(ev)["msclkid"] = "not-a-click-id" }, "data[1].userData.msclkid"},
		{"msclkid with a bad session byte", func(ev map[string]any) { ud(ev)["msclkid"] = testMsclkid + "-2" }, "data[1].userData.msclkid"},
		{"no identifier", func(ev map[string]any) { ev["userData"] = map[string]any{"clientIpAddress": "203.0.113.7"} }, "data[1].userData"},
		{"older than 7 days", func(ev map[string]any) { ev["eventTime"] = testNow.Add(-8 * 24 * time.Hour).Unix() }, "data[1].eventTime"},
		{"milliseconds", func(ev map[string]any) { ev["eventTime"] = testNow.UnixMilli() }, "data[1].eventTime"},
		{"future", func(ev map[string]any) { ev["eventTime"] = testNow.Add(time.Hour).Unix() }, "data[1].eventTime"},
		{"unknown event type", func(ev map[string]any) { ev["eventType"] = "purchase" }, "data[1].eventType"},
		{"custom without name", func(ev map[string]any) { delete(ev, "eventName") }, "data[1].eventName"},
		{"consent value", func(ev map[string]any) { ev["adStorageConsent"] = "granted" }, "data[1].adStorageConsent"},
		{"value as string", func(ev map[string]any) { ev["customData"].(map[string]any)["value"] = "1" }, "data[1].customData.value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			bad := validUETEvent(testNow, "bad")
			tt.edit(bad)
			r := postUET(t, ts.URL, ts.Client(), testUETTag, map[string]any{"data": []any{validUETEvent(testNow, "good"), bad}, "continueOnValidationError": true}, nil)
			a := decodeUET(t, r)
			if r.status != 200 || a.EventsReceived == nil || *a.EventsReceived != 1 || len(a.Errors) != 1 || a.Errors[0].Index != 1 || a.Errors[0].Field != tt.wantField {
				t.Fatalf("got %d %s, want 200, one received, error at %s", r.status, r.body, tt.wantField)
			}
			if strings.Contains(string(r.body), "john@example.com") {
				t.Errorf("answer echoes a raw value: %s", r.body)
			}
			if evs := s.Microsoft().Events(); len(evs) != 1 || evs[0].EventID != "good" || evs[0].Account != testUETTag {
				t.Errorf("recorded %+v", evs)
			}
		})
	}
}

// validOffline returns an offline conversion that satisfies every rule.
func validOffline(now time.Time, clk string) map[string]any {
	return map[string]any{"MicrosoftClickId": clk, "ConversionName": "Closed deal",
		"ConversionTime": now.Add(-24 * time.Hour).UTC().Format(time.RFC3339), "ConversionValue": 2500.0, "ConversionCurrencyCode": "EUR"}
}

func postOffline(t *testing.T, url string, client *http.Client, body any, edit func(http.Header)) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/CampaignManagement/v13/OfflineConversions/Apply", bytes.NewReader(mustJSON(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testOfflineToken)
	req.Header.Set("DeveloperToken", "dev-token")
	req.Header.Set("CustomerId", "1111")
	req.Header.Set("CustomerAccountId", "2222")
	if edit != nil {
		edit(req.Header)
	}
	return do(t, client, req)
}

// offlineAnswer is the Campaign Management answer as a client reads it.
type offlineAnswer struct {
	PartialErrors   []bingOpError `json:"PartialErrors"`
	OperationErrors []bingOpError `json:"OperationErrors"`
	Type            string        `json:"Type"`
}

// TestOfflineRejections: request faults (ApiFault with OperationErrors) and
// per-conversion PartialErrors with the index.
func TestOfflineRejections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		edit       func(oc map[string]any)
		header     func(http.Header)
		wantStatus int
		wantOp     string // OperationErrors[0].ErrorCode
		wantBatch  string // PartialErrors[0].ErrorCode at index 1
	}{
		{"no token", nil, func(h http.Header) { h.Del("Authorization") }, 401, "InvalidCredentials", ""},
		{"wrong token", nil, func(h http.Header) { h.Set("Authorization", "Bearer x") }, 401, "AuthenticationTokenExpired", ""},
		{"no developer token", nil, func(h http.Header) { h.Del("DeveloperToken") }, 401, "InvalidDeveloperToken", ""},
		{"no customer id", nil, func(h http.Header) { h.Del("CustomerId") }, 400, "CustomerIdHasToBeSpecified", ""},
		{"no account id", nil, func(h http.Header) { h.Set("CustomerAccountId", "acc") }, 400, "InvalidAccount", ""},
		{"no click id", func(oc map[string]any) { delete(oc, "MicrosoftClickId") }, nil, 200, "", "OfflineConversionMicrosoftClickIdInvalid"},
		{"no goal name", func(oc map[string]any) { oc["ConversionName"] = "" }, nil, 200, "", "OfflineConversionNameInvalid"},
		{"time without zone", func(oc map[string]any) { oc["ConversionTime"] = "2026-02-28 12:00:00" }, nil, 200, "", "OfflineConversionTimeInvalid"},
		{"older than 90 days", func(oc map[string]any) {
			oc["ConversionTime"] = testNow.Add(-91 * 24 * time.Hour).Format(time.RFC3339)
		}, nil, 200, "", "OfflineConversionTimeOutOfWindow"},
		{"negative value", func(oc map[string]any) { oc["ConversionValue"] = -1 }, nil, 200, "", "OfflineConversionValueInvalid"},
		{"currency lower case", func(oc map[string]any) { oc["ConversionCurrencyCode"] = "eur" }, nil, 200, "", "OfflineConversionCurrencyCodeInvalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{BearerTokens: map[string]string{microsoftOfflineName: testOfflineToken}})
			bad := validOffline(testNow, "bad-click")
			if tt.edit != nil {
				tt.edit(bad)
			}
			r := postOffline(t, ts.URL, ts.Client(), map[string]any{"OfflineConversions": []any{validOffline(testNow, testMsclkid), bad}}, tt.header)
			var a offlineAnswer
			if err := json.Unmarshal(r.body, &a); err != nil || r.status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tt.wantStatus)
			}
			if tt.wantOp != "" {
				if a.Type != "ApiFault" || len(a.OperationErrors) != 1 || a.OperationErrors[0].ErrorCode != tt.wantOp || r.header.Get("TrackingId") == "" {
					t.Fatalf("fault = %s, want %s", r.body, tt.wantOp)
				}
				if n := len(s.MicrosoftOffline().Events()); n != 0 {
					t.Errorf("recorded %d after a fault", n)
				}
				return
			}
			if len(a.PartialErrors) != 1 || a.PartialErrors[0].ErrorCode != tt.wantBatch || a.PartialErrors[0].Index == nil || *a.PartialErrors[0].Index != 1 {
				t.Fatalf("partial errors = %s, want %s at index 1", r.body, tt.wantBatch)
			}
			if evs := s.MicrosoftOffline().Events(); len(evs) != 1 || evs[0].Account != "2222" || !strings.HasPrefix(evs[0].EventID, testMsclkid) {
				t.Errorf("recorded %+v", evs)
			}
		})
	}
}

// TestOfflineBatchLimitAndDuplicates: 1,000 conversions per request; a
// second conversion with the same click id and time is a duplicate.
func TestOfflineBatchLimitAndDuplicates(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{})
	ocs := make([]any, offlineMaxBatch+1)
	for i := range ocs {
		ocs[i] = validOffline(testNow, testMsclkid)
	}
	r := postOffline(t, ts.URL, ts.Client(), map[string]any{"OfflineConversions": ocs}, nil)
	if r.status != 400 || !strings.Contains(string(r.body), "OfflineConversionsLimitExceeded") {
		t.Fatalf("1001: %d %s", r.status, r.body)
	}
	r = postOffline(t, ts.URL, ts.Client(), map[string]any{"OfflineConversions": ocs[:offlineMaxBatch]}, nil)
	if r.status != 200 || string(bytes.TrimSpace(r.body)) != `{"PartialErrors":null}` {
		t.Fatalf("1000: %d %s", r.status, r.body)
	}
	if st := s.MicrosoftOffline().Stats(); st.Accepted != offlineMaxBatch || st.Duplicates != offlineMaxBatch-1 {
		t.Errorf("stats = %+v", st)
	}
}
