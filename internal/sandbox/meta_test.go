package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// userData returns the event's user_data for mutation.
func userData(ev map[string]any) map[string]any { return ev["user_data"].(map[string]any) }

func TestMetaRejectsContractViolations(t *testing.T) {
	t.Parallel()
	now := testNow
	day := 24 * time.Hour
	tests := []struct {
		name        string
		mutate      func(ev map[string]any)
		wantSubcode int
		wantInMsg   string // besides "data[1]"
	}{
		{"missing event_name", func(ev map[string]any) { delete(ev, "event_name") }, 2804019, "event_name is required"},
		{"event_name not a string", func(ev map[string]any) { ev["event_name"] = 7 }, 2804019, "event_name must be a string"},
		{"missing event_time", func(ev map[string]any) { delete(ev, "event_time") }, 2804019, "event_time is required"},
		{"event_time as string", func(ev map[string]any) { ev["event_time"] = fmt.Sprint(now.Unix()) }, 2804019, "integer"},
		{"event_time fractional", func(ev map[string]any) { ev["event_time"] = float64(now.Unix()) + 0.5 }, 2804019, "integer"},
		{"event_time in milliseconds", func(ev map[string]any) { ev["event_time"] = now.UnixMilli() }, 2804004, "future"},
		{"event_time 7 days and 1 s old", func(ev map[string]any) { ev["event_time"] = now.Add(-7*day - time.Second).Unix() }, 2804003, "too far in the past"},
		{"event_time 61 s ahead", func(ev map[string]any) { ev["event_time"] = now.Add(61 * time.Second).Unix() }, 2804004, "future"},
		{"physical_store 63 days old", func(ev map[string]any) {
			ev["action_source"] = "physical_store"
			ev["event_time"] = now.Add(-63 * day).Unix()
		}, 2804003, "62 days"},
		{"missing action_source", func(ev map[string]any) { delete(ev, "action_source") }, 2804019, "action_source is required"},
		{"unknown action_source", func(ev map[string]any) { ev["action_source"] = "web" }, 2804019, "action_source must be one of"},
		{"website without event_source_url", func(ev map[string]any) { delete(ev, "event_source_url") }, 2804019, "event_source_url"},
		{"website without client_user_agent", func(ev map[string]any) { delete(userData(ev), "client_user_agent") }, 2804019, "client_user_agent"},
		{"missing user_data", func(ev map[string]any) { delete(ev, "user_data") }, 2804019, "user_data is required"},
		{"user_data not an object", func(ev map[string]any) { ev["user_data"] = "john@example.com" }, 2804019, "user_data must be a JSON object"},
		{"user_data without customer information", func(ev map[string]any) {
			ev["action_source"] = "app"
			ev["user_data"] = map[string]any{"em": []string{}, "external_id": ""}
		}, 2804050, "no customer information"},
		{"em not hashed", func(ev map[string]any) { userData(ev)["em"] = "john_smith@gmail.com" }, 2804016, "user_data.em must be hashed"},
		{"em hashed in uppercase", func(ev map[string]any) { userData(ev)["em"] = strings.ToUpper(sha("a@b.c")) }, 2804016, "user_data.em"},
		{"em 63 characters", func(ev map[string]any) { userData(ev)["em"] = sha("a@b.c")[1:] }, 2804016, "user_data.em"},
		{"ph list with one raw number", func(ev map[string]any) { userData(ev)["ph"] = []string{sha("1"), "16505551212"} }, 2804016, "user_data.ph"},
		{"country as a number", func(ev map[string]any) { userData(ev)["country"] = 840 }, 2804016, "user_data.country"},
		{"zp empty string", func(ev map[string]any) { userData(ev)["zp"] = "" }, 2804016, "user_data.zp"},
		{"client_ip_address hashed", func(ev map[string]any) { userData(ev)["client_ip_address"] = sha("203.0.113.7") }, 2804019, "client_ip_address must not be hashed"},
		{"client_ip_address not an address", func(ev map[string]any) { userData(ev)["client_ip_address"] = "unknown" }, 2804019, "IPv4 or IPv6"},
		{"client_user_agent hashed", func(ev map[string]any) { userData(ev)["client_user_agent"] = sha("Mozilla") }, 2804019, "client_user_agent must not be hashed"},
		{"fbc without creation time", func(ev map[string]any) { userData(ev)["fbc"] = "fb.1.AbCdEf" }, 2804019, "user_data.fbc must look like"},
		{"fbc is a bare fbclid", func(ev map[string]any) { userData(ev)["fbc"] = "IwAR2xyz" }, 2804019, "user_data.fbc"},
		{"fbp hashed", func(ev map[string]any) { userData(ev)["fbp"] = strings.ToUpper(sha("fb.1.2.3")) }, 2804019, "fbp must not be hashed"},
		{"currency of two letters", func(ev map[string]any) { ev["custom_data"] = map[string]any{"currency": "US", "value": 1} }, 2804019, "custom_data.currency"},
		{"currency as ISO number", func(ev map[string]any) { ev["custom_data"] = map[string]any{"currency": 840, "value": 1} }, 2804019, "custom_data.currency"},
		{"value as string", func(ev map[string]any) { ev["custom_data"] = map[string]any{"currency": "USD", "value": "142.52"} }, 2804019, "custom_data.value must be a number"},
		{"Purchase without value", func(ev map[string]any) { ev["custom_data"] = map[string]any{"currency": "USD"} }, 2804019, "Purchase events require"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			events := validEvents(now, "ok", 3)
			tt.mutate(events[1].(map[string]any))

			resp := postEvents(t, ts, testToken, events)

			if resp.status != http.StatusBadRequest {
				t.Fatalf("status %d, body %s; want 400", resp.status, resp.body)
			}
			e := resp.graphErr(t)
			if e.Code != 100 || e.ErrorSubcode != tt.wantSubcode || e.Type != "OAuthException" || e.IsTransient {
				t.Errorf("error %+v; want code 100, subcode %d, OAuthException, not transient", e, tt.wantSubcode)
			}
			if !strings.HasPrefix(e.ErrorUserMsg, "data[1]: ") || !strings.Contains(e.ErrorUserMsg, tt.wantInMsg) {
				t.Errorf("error_user_msg %q; want it to name data[1] and say %q", e.ErrorUserMsg, tt.wantInMsg)
			}
			// All or nothing: the two valid events were not recorded either.
			if got := s.Meta().Events(); len(got) != 0 {
				t.Errorf("recorded %d events from a rejected batch", len(got))
			}
			if st := s.Meta().Stats(); st.Accepted != 0 || st.Rejected != 1 || st.Requests != 1 {
				t.Errorf("stats %+v; want 1 request, 1 rejected, 0 accepted", st)
			}
		})
	}
}

func TestMetaAcceptsValidVariants(t *testing.T) {
	t.Parallel()
	now := testNow
	day := 24 * time.Hour
	tests := []struct {
		name   string
		mutate func(ev map[string]any)
	}{
		{"as built", func(map[string]any) {}},
		{"event_time exactly 7 days old", func(ev map[string]any) { ev["event_time"] = now.Add(-7 * day).Unix() }},
		{"event_time 60 s ahead", func(ev map[string]any) { ev["event_time"] = now.Add(60 * time.Second).Unix() }},
		{"physical_store 61 days old", func(ev map[string]any) {
			ev["action_source"] = "physical_store"
			ev["event_time"] = now.Add(-61 * day).Unix()
		}},
		{"app event with external_id only", func(ev map[string]any) {
			ev["action_source"] = "app"
			delete(ev, "event_source_url")
			ev["user_data"] = map[string]any{"external_id": "crm-42"}
		}},
		{"system_generated with hashed lists", func(ev map[string]any) {
			ev["action_source"] = "system_generated"
			ev["user_data"] = map[string]any{"em": []string{sha("a@b.c"), sha("d@e.f")}, "ct": sha("paris"), "country": []any{sha("fr")}}
		}},
		{"IPv6 client address", func(ev map[string]any) { userData(ev)["client_ip_address"] = "2001:db8::7" }},
		{"fbc whose value has dots", func(ev map[string]any) { userData(ev)["fbc"] = "fb.2.1554763741205.IwAR.x.y" }},
		{"lowercase currency, integer value", func(ev map[string]any) { ev["custom_data"] = map[string]any{"currency": "eur", "value": 10} }},
		{"non-purchase without custom_data", func(ev map[string]any) { ev["event_name"] = "Lead"; delete(ev, "custom_data") }},
		{"null optional fields", func(ev map[string]any) { ev["event_id"] = nil; userData(ev)["fn"] = nil }},
		{"every other action_source", func(ev map[string]any) { ev["action_source"] = "business_messaging" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			ev := validEvent(now, "e1")
			tt.mutate(ev)
			if got := postEvents(t, ts, testToken, []any{ev}).success(t); got != 1 {
				t.Errorf("events_received %d; want 1", got)
			}
			if st := s.Meta().Stats(); st.Accepted != 1 || st.Rejected != 0 {
				t.Errorf("stats %+v; want 1 accepted", st)
			}
		})
	}
}

func TestMetaRecordsAcceptedEvents(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s, ts := startSandbox(t, Options{Clock: clock.Now})
	events := validEvents(testNow, "order", 3)
	body := map[string]any{"data": events, "test_event_code": "TEST123"}

	if got := postJSON(t, ts, eventsURL(ts, testPixel, testToken), body).success(t); got != 3 {
		t.Fatalf("events_received %d; want 3", got)
	}

	got := s.Meta().Events()
	if len(got) != 3 {
		t.Fatalf("recorded %d events; want 3", len(got))
	}
	for i, ev := range got {
		sent := events[i].(map[string]any)
		if ev.Pixel != testPixel || ev.EventName != "Purchase" || ev.EventID != sent["event_id"] ||
			ev.ActionSource != "website" || ev.TestEventCode != "TEST123" || ev.EventTime != sent["event_time"] ||
			ev.EventSourceURL != sent["event_source_url"] || !ev.ReceivedAt.Equal(testNow) {
			t.Errorf("event %d = %+v; want the fields sent in order", i, ev)
		}
		if em := ev.UserData["em"].([]any); len(em) != 1 || em[0] != sha("john_smith@gmail.com") {
			t.Errorf("event %d user_data.em = %v", i, ev.UserData["em"])
		}
		if ev.CustomData["currency"] != "USD" || ev.CustomData["value"] != 142.52 {
			t.Errorf("event %d custom_data = %v", i, ev.CustomData)
		}
	}
	// Events returns copies: changing one does not change the store.
	got[0].UserData["em"] = "changed"
	if again := s.Meta().Events(); again[0].UserData["em"] == "changed" {
		t.Error("Events shares maps with the recorder")
	}
}

func TestMetaRequestShape(t *testing.T) {
	t.Parallel()
	one := validEvents(testNow, "shape", 1)
	tests := []struct {
		name        string
		body        []byte
		wantStatus  int
		wantCode    int
		wantInMsg   string
		wantRecords int
	}{
		{"data missing", []byte(`{"test_event_code":"X"}`), 400, 100, "data is required", 0},
		{"data null", []byte(`{"data":null}`), 400, 100, "data is required", 0},
		{"data empty", []byte(`{"data":[]}`), 400, 100, "at least one event", 0},
		{"data an object", []byte(`{"data":{"event_name":"Lead"}}`), 400, 100, "must be a JSON array", 0},
		{"event not an object", []byte(`{"data":[1]}`), 400, 100, "data[0]: an event must be a JSON object", 0},
		{"malformed JSON", []byte(`{"data":[{"event_name":"Lead"`), 400, 100, "not a valid JSON object", 0},
		{"1001 events", mustJSON(map[string]any{"data": validEvents(testNow, "big", 1001)}), 400, 100, "at most 1000 events", 0},
		{"1000 events", mustJSON(map[string]any{"data": validEvents(testNow, "big", 1000)}), 200, 0, "", 1000},
		{"data as a JSON string", mustJSON(map[string]any{"data": string(mustJSON(one))}), 200, 0, "", 1},
		{"whitespace everywhere", []byte(" {\n \"data\" : [ " + string(mustJSON(one[0])) + " ,\n" + string(mustJSON(one[0])) + " ] } "), 200, 0, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			resp := postJSON(t, ts, eventsURL(ts, testPixel, testToken), tt.body)
			if resp.status != tt.wantStatus {
				t.Fatalf("status %d, body %.300s; want %d", resp.status, resp.body, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				e := resp.graphErr(t)
				if e.Code != tt.wantCode || !strings.Contains(e.ErrorUserMsg, tt.wantInMsg) {
					t.Errorf("error %+v; want code %d and a message saying %q", e, tt.wantCode, tt.wantInMsg)
				}
			}
			if got := len(s.Meta().Events()); got != tt.wantRecords {
				t.Errorf("recorded %d events; want %d", got, tt.wantRecords)
			}
		})
	}
}

func TestMetaPaths(t *testing.T) {
	t.Parallel()
	body := map[string]any{"data": validEvents(testNow, "p", 1)}
	tests := []struct {
		name        string
		path        string
		wantStatus  int
		wantCode    int
		wantSubcode int
	}{
		{"real path", "/v21.0/" + testPixel + "/events", 200, 0, 0},
		{"any version", "/v9.12/" + testPixel + "/events", 200, 0, 0},
		{"platform prefix", "/meta/v21.0/" + testPixel + "/events", 200, 0, 0},
		{"version without minor", "/v21/" + testPixel + "/events", 400, 2500, 0},
		{"not a version", "/latest/" + testPixel + "/events", 400, 2500, 0},
		{"pixel not numeric", "/v21.0/my-pixel/events", 400, 100, 33},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ts := startSandbox(t, Options{})
			resp := postJSON(t, ts, ts.URL+tt.path+"?access_token="+testToken, body)
			if resp.status != tt.wantStatus {
				t.Fatalf("status %d, body %s; want %d", resp.status, resp.body, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				if e := resp.graphErr(t); e.Code != tt.wantCode || e.ErrorSubcode != tt.wantSubcode {
					t.Errorf("error %+v; want code %d subcode %d", e, tt.wantCode, tt.wantSubcode)
				}
			}
		})
	}

	t.Run("GET is not allowed", func(t *testing.T) {
		t.Parallel()
		_, ts := startSandbox(t, Options{})
		req, _ := http.NewRequest(http.MethodGet, eventsURL(ts, testPixel, testToken), nil)
		if resp := do(t, ts.Client(), req); resp.status != http.StatusMethodNotAllowed {
			t.Errorf("status %d; want 405", resp.status)
		}
	})
}

func TestMetaAccessToken(t *testing.T) {
	t.Parallel()
	const otherPixel = "999"
	tokens := map[string]string{testPixel: "tok-a", otherPixel: "tok-b"}
	data := string(mustJSON(validEvents(testNow, "tok", 1)))
	tests := []struct {
		name   string
		tokens map[string]string
		pixel  string
		build  func(base string) *http.Request // base is the events URL without query
		wantOK bool
	}{
		{"query token", tokens, testPixel, func(base string) *http.Request {
			return jsonRequest(base+"?access_token=tok-a", `{"data":`+data+`}`)
		}, true},
		{"token in JSON body", tokens, testPixel, func(base string) *http.Request {
			return jsonRequest(base, `{"data":`+data+`,"access_token":"tok-a"}`)
		}, true},
		{"form token", tokens, testPixel, func(base string) *http.Request {
			return formRequest(base, url.Values{"data": {data}, "access_token": {"tok-a"}})
		}, true},
		{"bearer header", tokens, testPixel, func(base string) *http.Request {
			r := jsonRequest(base, `{"data":`+data+`}`)
			r.Header.Set("Authorization", "Bearer tok-a")
			return r
		}, true},
		{"missing token", tokens, testPixel, func(base string) *http.Request {
			return jsonRequest(base, `{"data":`+data+`}`)
		}, false},
		{"wrong token", tokens, testPixel, func(base string) *http.Request {
			return jsonRequest(base+"?access_token=tok-x", `{"data":`+data+`}`)
		}, false},
		{"another pixel's token", tokens, otherPixel, func(base string) *http.Request {
			return jsonRequest(base+"?access_token=tok-a", `{"data":`+data+`}`)
		}, false},
		{"pixel without a token", tokens, "555", func(base string) *http.Request {
			return jsonRequest(base+"?access_token=tok-a", `{"data":`+data+`}`)
		}, false},
		{"any token when none configured", nil, "555", func(base string) *http.Request {
			return jsonRequest(base+"?access_token=whatever", `{"data":`+data+`}`)
		}, true},
		{"still a token when none configured", nil, "555", func(base string) *http.Request {
			return jsonRequest(base, `{"data":`+data+`}`)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{MetaTokens: tt.tokens})
			resp := do(t, ts.Client(), tt.build(eventsURL(ts, tt.pixel, "")))
			if tt.wantOK {
				resp.success(t)
				return
			}
			if resp.status != http.StatusBadRequest {
				t.Fatalf("status %d, body %s; want 400", resp.status, resp.body)
			}
			if e := resp.graphErr(t); e.Code != 190 || e.Type != "OAuthException" || e.IsTransient {
				t.Errorf("error %+v; want code 190 OAuthException, not transient", e)
			}
			if n := len(s.Meta().Events()); n != 0 {
				t.Errorf("recorded %d events without a valid token", n)
			}
		})
	}
}

func jsonRequest(u, body string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func formRequest(u string, v url.Values) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func TestMetaFormEncodedBodies(t *testing.T) {
	t.Parallel()
	data := string(mustJSON(validEvents(testNow, "form", 2)))

	t.Run("urlencoded", func(t *testing.T) {
		t.Parallel()
		s, ts := startSandbox(t, Options{})
		req := formRequest(eventsURL(ts, testPixel, ""), url.Values{
			"data": {data}, "access_token": {testToken}, "test_event_code": {"TEST9"}})
		if got := do(t, ts.Client(), req).success(t); got != 2 {
			t.Fatalf("events_received %d; want 2", got)
		}
		evs := s.Meta().Events()
		if len(evs) != 2 || evs[1].EventID != "form-1" || evs[1].TestEventCode != "TEST9" {
			t.Errorf("recorded %+v; want form-0, form-1 with test code TEST9", evs)
		}
	})

	t.Run("multipart", func(t *testing.T) {
		t.Parallel()
		s, ts := startSandbox(t, Options{})
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("data", data)
		_ = mw.WriteField("access_token", testToken)
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, eventsURL(ts, testPixel, ""), &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if got := do(t, ts.Client(), req).success(t); got != 2 || len(s.Meta().Events()) != 2 {
			t.Errorf("events_received %d, recorded %d; want 2 and 2", got, len(s.Meta().Events()))
		}
	})

	t.Run("form data not JSON", func(t *testing.T) {
		t.Parallel()
		_, ts := startSandbox(t, Options{})
		req := formRequest(eventsURL(ts, testPixel, testToken), url.Values{"data": {`[{"event_name":`}})
		resp := do(t, ts.Client(), req)
		if resp.status != 400 || resp.graphErr(t).Code != 100 {
			t.Errorf("status %d body %s; want 400 code 100", resp.status, resp.body)
		}
	})
}

func TestMetaBodyLimit(t *testing.T) {
	t.Parallel()
	// A valid request padded past 5 MiB through a long test_event_code.
	big := mustJSON(map[string]any{
		"data":            validEvents(testNow, "big", 1),
		"test_event_code": strings.Repeat("x", metaMaxBodyBytes),
	})
	tests := []struct {
		name string
		body io.Reader // a bare io.Reader hides the length, so the body goes chunked
	}{
		{"with Content-Length", bytes.NewReader(big)},
		{"chunked", struct{ io.Reader }{bytes.NewReader(big)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			req, _ := http.NewRequest(http.MethodPost, eventsURL(ts, testPixel, testToken), tt.body)
			req.Header.Set("Content-Type", "application/json")
			resp := do(t, ts.Client(), req)
			if resp.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d; want 413", resp.status)
			}
			if e := resp.graphErr(t); e.Code != 100 {
				t.Errorf("error %+v; want code 100", e)
			}
			if n := len(s.Meta().Events()); n != 0 {
				t.Errorf("recorded %d events from an oversized request", n)
			}
		})
	}
}

func TestMetaEventTimeFollowsClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s, ts := startSandbox(t, Options{Clock: clock.Now})
	events := validEvents(testNow, "late", 1)

	postEvents(t, ts, testToken, events).success(t)
	clock.Advance(7 * 24 * time.Hour) // the event, a minute old when sent, is now 7 days and a minute old

	resp := postEvents(t, ts, testToken, events)
	if resp.status != 400 || resp.graphErr(t).ErrorSubcode != subcodeTimestampTooOld {
		t.Fatalf("status %d body %s; want 400 subcode %d once the clock moved on", resp.status, resp.body, subcodeTimestampTooOld)
	}
	if st := s.Meta().Stats(); st.Accepted != 1 || st.Rejected != 1 {
		t.Errorf("stats %+v; want 1 accepted event, 1 rejected request", st)
	}
}

func TestMetaDuplicates(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{})
	a, b := validEvent(testNow, "order-1"), validEvent(testNow, "order-2")
	lead := validEvent(testNow, "order-1")
	lead["event_name"] = "Lead" // same id, other name: a different event for Meta
	noID := validEvent(testNow, "")
	delete(noID, "event_id") // no key: never a duplicate

	postEvents(t, ts, testToken, []any{a, b, lead, noID}).success(t)
	postEvents(t, ts, testToken, []any{a, a, noID}).success(t) // order-1 twice more
	other := do(t, ts.Client(), jsonRequest(eventsURL(ts, "42", testToken), string(mustJSON(map[string]any{"data": []any{b}}))))
	other.success(t) // order-2 on another pixel: not a duplicate

	st := s.Meta().Stats()
	if st.Accepted != 8 || st.Duplicates != 2 || st.Requests != 3 {
		t.Errorf("stats %+v; want 8 accepted, 2 duplicates, 3 requests", st)
	}
	if n := len(s.Meta().Events()); n != 8 {
		t.Errorf("recorded %d events; want all 8 (duplicates are accepted)", n)
	}
}

func TestMetaMaxRecorded(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{MaxRecorded: 5})
	postEvents(t, ts, testToken, validEvents(testNow, "a", 3)).success(t)
	postEvents(t, ts, testToken, validEvents(testNow, "b", 4)).success(t)
	postEvents(t, ts, testToken, validEvents(testNow, "a", 3)).success(t)

	st := s.Meta().Stats()
	if st.Accepted != 10 || st.Dropped != 5 || st.Duplicates != 3 {
		t.Errorf("stats %+v; want 10 accepted, 5 dropped, 3 duplicates (counted past the bound)", st)
	}
	var ids []string
	for _, ev := range s.Meta().Events() {
		ids = append(ids, ev.EventID)
	}
	if want := "a-0 a-1 a-2 b-0 b-1"; strings.Join(ids, " ") != want {
		t.Errorf("stored %v; want the first five: %s", ids, want)
	}

	s.Meta().Reset()
	if st := s.Meta().Stats(); st != (MetaStats{}) || len(s.Meta().Events()) != 0 {
		t.Errorf("after Reset: stats %+v, %d events; want zero", st, len(s.Meta().Events()))
	}
	postEvents(t, ts, testToken, validEvents(testNow, "a", 1)).success(t)
	if st := s.Meta().Stats(); st.Duplicates != 0 || st.Dropped != 0 {
		t.Errorf("after Reset the old keys and bound still count: %+v", st)
	}
}

func TestMetaRecordsNothingWhenMaxRecordedNegative(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{MaxRecorded: -1})
	postEvents(t, ts, testToken, validEvents(testNow, "a", 2)).success(t)
	if st := s.Meta().Stats(); st.Accepted != 2 || st.Dropped != 2 || len(s.Meta().Events()) != 0 {
		t.Errorf("stats %+v, %d events; want 2 accepted, 2 dropped, none stored", st, len(s.Meta().Events()))
	}
}

func TestMetaConcurrentBatches(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{})
	const workers, batches, size = 8, 5, 50
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for b := range batches {
				body := mustJSON(map[string]any{"data": validEvents(testNow, fmt.Sprintf("w%d-b%d", w, b), size)})
				resp, err := ts.Client().Post(eventsURL(ts, testPixel, testToken), "application/json", bytes.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st := s.Meta().Stats()
	if want := int64(workers * batches * size); st.Accepted != want || st.Duplicates != 0 || int64(len(s.Meta().Events())) != want {
		t.Errorf("stats %+v; want %d accepted, no duplicates, all stored", st, want)
	}
}

// TestMetaErrorEnvelopeIsJSON checks the content type clients switch on.
func TestMetaErrorEnvelopeIsJSON(t *testing.T) {
	t.Parallel()
	_, ts := startSandbox(t, Options{})
	resp := postEvents(t, ts, "", validEvents(testNow, "x", 1))
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q; want application/json", ct)
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(resp.body, &v); err != nil {
		t.Errorf("body %s is not JSON: %v", resp.body, err)
	}
}
