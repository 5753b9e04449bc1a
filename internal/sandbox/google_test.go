package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// googleToken fetches an access token from the sandbox's token endpoint.
func googleToken(t testing.TB, ts *httptest.Server, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+googleTokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, ts.Client(), req)
}

func refreshForm(refresh string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {"c"}, "client_secret": {"s"}, "refresh_token": {refresh}}
}

// accessToken returns a valid token for ts.
func accessToken(t testing.TB, ts *httptest.Server) string {
	t.Helper()
	r := googleToken(t, ts, refreshForm("rt"))
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &tok) != nil || tok.AccessToken == "" || tok.ExpiresIn != 3600 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	return tok.AccessToken
}

// postBearer posts body as JSON with the bearer token.
func postBearer(t testing.TB, ts *httptest.Server, path, token string, body any) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+path, bytes.NewReader(mustJSON(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, ts.Client(), req)
}

// rpcErr decodes a google.rpc.Status body, failing on any other shape.
type rpcErrBody struct {
	Code    int    `json:"code"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Details []struct {
		Type            string           `json:"@type"`
		FieldViolations []fieldViolation `json:"fieldViolations"`
	} `json:"details"`
}

func (r response) rpcErr(t testing.TB) rpcErrBody {
	t.Helper()
	var e struct{ Error rpcErrBody }
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code != r.status || e.Error.Status == "" {
		t.Fatalf("error body %s (HTTP %d): want a google.rpc.Status envelope", r.body, r.status)
	}
	return e.Error
}

func (e rpcErrBody) violations() string {
	var b strings.Builder
	for _, d := range e.Details {
		for _, v := range d.FieldViolations {
			b.WriteString(v.Field + ": " + v.Description + "\n")
		}
	}
	return b.String()
}

// dmEventJSON is a valid Data Manager event at now.
func dmEventJSON(now time.Time, txn string) map[string]any {
	return map[string]any{
		"transactionId":  txn,
		"eventTimestamp": now.Add(-time.Hour).Format(time.RFC3339),
		"eventSource":    "WEB",
		"adIdentifiers":  map[string]any{"gclid": "Cj0KCQiA"},
		"userData": map[string]any{"userIdentifiers": []any{
			map[string]any{"emailAddress": sha("johnsmith@gmail.com")},
			map[string]any{"phoneNumber": sha("+16505551212")},
			map[string]any{"address": map[string]any{"givenName": sha("john"), "familyName": sha("smith"), "regionCode": "US", "postalCode": "94025"}},
		}},
		"consent":         map[string]any{"adUserData": "CONSENT_GRANTED"},
		"currency":        "USD",
		"conversionValue": 10.5,
		"userProperties":  map[string]any{"customerType": "RETURNING", "customerValueBucket": "HIGH"},
	}
}

func dmRequestJSON(events ...any) map[string]any {
	return map[string]any{
		"destinations": []any{map[string]any{"operatingAccount": map[string]any{"accountType": "GOOGLE_ADS", "accountId": "1234567890"}, "productDestinationId": "99"}},
		"encoding":     "HEX",
		"events":       events,
	}
}

func TestGoogleTokenEndpoint(t *testing.T) {
	t.Parallel()
	now := testNow
	tests := []struct {
		name      string
		form      url.Values
		wantCode  int
		wantError string
	}{
		{"refresh token", refreshForm("rt-good"), 200, ""},
		{"revoked refresh token", refreshForm("rt-other"), 400, "invalid_grant"},
		{"no client secret", url.Values{"grant_type": {"refresh_token"}, "client_id": {"c"}, "refresh_token": {"rt-good"}}, 401, "invalid_client"},
		{"unknown grant", url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
		{"jwt not a jwt", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"x"}}, 400, "invalid_grant"},
		{"jwt expired", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwtWith(map[string]any{
			"iss": "sa@p.iam.gserviceaccount.com", "scope": "s", "aud": "a", "exp": now.Add(-time.Minute).Unix()})}}, 400, "invalid_grant"},
		{"jwt valid", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwtWith(map[string]any{
			"iss": "sa@p.iam.gserviceaccount.com", "scope": "s", "aud": "a", "exp": now.Add(time.Hour).Unix()})}}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ts := startSandbox(t, Options{GoogleRefreshToken: "rt-good"})
			r := googleToken(t, ts, tt.form)
			var body map[string]any
			_ = json.Unmarshal(r.body, &body)
			if r.status != tt.wantCode || (tt.wantError != "" && body["error"] != tt.wantError) {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.wantCode, tt.wantError)
			}
		})
	}
}

func jwtWith(claims map[string]any) string {
	enc := func(v any) string { return base64.RawURLEncoding.EncodeToString(mustJSON(v)) }
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".c2ln"
}

func TestGoogleIngestRejects(t *testing.T) {
	t.Parallel()
	now := testNow
	day := 24 * time.Hour
	tests := []struct {
		name      string
		mutate    func(req map[string]any, ev map[string]any)
		wantField string
	}{
		{"unhashed email", func(_, ev map[string]any) {
			ev["userData"] = map[string]any{"userIdentifiers": []any{map[string]any{"emailAddress": "john@example.com"}}}
		}, "events[1].userData.userIdentifiers[0].emailAddress"},
		{"uppercase hash", func(_, ev map[string]any) {
			ev["userData"] = map[string]any{"userIdentifiers": []any{map[string]any{"phoneNumber": strings.ToUpper(sha("+1"))}}}
		}, "events[1].userData.userIdentifiers[0].phoneNumber"},
		{"two fields in one identifier", func(_, ev map[string]any) {
			ev["userData"] = map[string]any{"userIdentifiers": []any{map[string]any{"emailAddress": sha("a"), "phoneNumber": sha("b")}}}
		}, "events[1].userData.userIdentifiers[0]"},
		{"hashed region code", func(_, ev map[string]any) {
			ev["userData"] = map[string]any{"userIdentifiers": []any{map[string]any{"address": map[string]any{"givenName": sha("a"), "familyName": sha("b"), "regionCode": sha("us"), "postalCode": "1"}}}}
		}, "events[1].userData.userIdentifiers[0].address.regionCode"},
		{"gbraid and wbraid", func(_, ev map[string]any) { ev["adIdentifiers"] = map[string]any{"gbraid": "g", "wbraid": "w"} }, "events[1].adIdentifiers"},
		{"too old", func(_, ev map[string]any) { ev["eventTimestamp"] = now.Add(-91 * day).Format(time.RFC3339) }, "events[1].eventTimestamp"},
		{"timestamp as seconds string", func(_, ev map[string]any) { ev["eventTimestamp"] = "1795168800" }, "events[1].eventTimestamp"},
		{"nothing to match", func(_, ev map[string]any) { delete(ev, "userData"); delete(ev, "adIdentifiers") }, "events[1]"},
		{"bad consent", func(_, ev map[string]any) { ev["consent"] = map[string]any{"adUserData": "GRANTED"} }, "events[1].consent.adUserData"},
		{"lowercase currency", func(_, ev map[string]any) { ev["currency"] = "usd" }, "events[1].currency"},
		{"customer type not in the enum", func(_, ev map[string]any) { ev["userProperties"] = map[string]any{"customerType": "new"} }, "events[1].userProperties.customerType"},
		{"value bucket not in the enum", func(_, ev map[string]any) { ev["userProperties"] = map[string]any{"customerValueBucket": "VIP"} }, "events[1].userProperties.customerValueBucket"},
		{"no encoding with user data", func(req, _ map[string]any) { delete(req, "encoding") }, "encoding"},
		{"no destination", func(req, _ map[string]any) { req["destinations"] = []any{} }, "destinations"},
		{"unknown reference", func(_, ev map[string]any) { ev["destinationReferences"] = []string{"nope"} }, "events[1].destinationReferences"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			ev := dmEventJSON(now, "t-1")
			req := dmRequestJSON(dmEventJSON(now, "t-0"), ev)
			tt.mutate(req, ev)
			r := postBearer(t, ts, "/v1/events:ingest", accessToken(t, ts), req)
			if r.status != 400 {
				t.Fatalf("status %d %s, want 400", r.status, r.body)
			}
			e := r.rpcErr(t)
			if e.Status != "INVALID_ARGUMENT" || !strings.Contains(e.violations(), tt.wantField+": ") {
				t.Fatalf("violations:\n%s want one on %s", e.violations(), tt.wantField)
			}
			if n := len(s.Google().Events()); n != 0 {
				t.Errorf("fast-fail broken: %d events recorded", n)
			}
		})
	}
}

func TestGoogleIngest(t *testing.T) {
	t.Parallel()
	now := testNow
	t.Run("too many events", func(t *testing.T) {
		t.Parallel()
		_, ts := startSandbox(t, Options{})
		evs := make([]any, googleMaxEvents+1)
		for i := range evs {
			evs[i] = dmEventJSON(now, "t")
		}
		r := postBearer(t, ts, "/v1/events:ingest", accessToken(t, ts), dmRequestJSON(evs...))
		if e := r.rpcErr(t); r.status != 400 || !strings.Contains(e.violations(), "at most 2000") {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("unknown field refused", func(t *testing.T) {
		t.Parallel()
		_, ts := startSandbox(t, Options{})
		ev := dmEventJSON(now, "t")
		ev["conversion_value"] = 1
		r := postBearer(t, ts, "/v1/events:ingest", accessToken(t, ts), dmRequestJSON(ev))
		if e := r.rpcErr(t); r.status != 400 || !strings.Contains(e.Message, "conversion_value") {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("no token, unknown token, expired token", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		_, ts := startSandbox(t, Options{Clock: clock.Now})
		good := accessToken(t, ts)
		for _, tok := range []string{"", "ya29.made-up", "ya29.sbx.99999999999.00"} {
			if r := postBearer(t, ts, "/v1/events:ingest", tok, dmRequestJSON(dmEventJSON(now, "t"))); r.status != 401 || r.rpcErr(t).Status != "UNAUTHENTICATED" {
				t.Errorf("token %q: %d %s", tok, r.status, r.body)
			}
		}
		clock.Advance(time.Hour + time.Second)
		if r := postBearer(t, ts, "/v1/events:ingest", good, dmRequestJSON(dmEventJSON(clock.Now(), "t"))); r.status != 401 {
			t.Errorf("expired token: %d %s", r.status, r.body)
		}
	})
	t.Run("accepted, recorded, duplicates counted", func(t *testing.T) {
		t.Parallel()
		s, ts := startSandbox(t, Options{})
		tok := accessToken(t, ts)
		for range 2 {
			r := postBearer(t, ts, "/v1/events:ingest", tok, dmRequestJSON(dmEventJSON(now, "t-1"), dmEventJSON(now, "t-2")))
			var ok struct {
				RequestID string `json:"requestId"`
			}
			if r.status != 200 || json.Unmarshal(r.body, &ok) != nil || ok.RequestID == "" {
				t.Fatalf("got %d %s", r.status, r.body)
			}
		}
		evs := s.Google().Events()
		if len(evs) != 4 || evs[0].EventID != "t-1" || evs[0].Account != "1234567890" || evs[0].Test {
			t.Fatalf("recorded %+v", evs)
		}
		if st := s.Google().Stats(); st.Duplicates != 2 || st.Accepted != 4 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("validate only records nothing", func(t *testing.T) {
		t.Parallel()
		s, ts := startSandbox(t, Options{})
		req := dmRequestJSON(dmEventJSON(now, "t-1"))
		req["validateOnly"] = true
		if r := postBearer(t, ts, "/v1/events:ingest", accessToken(t, ts), req); r.status != 200 {
			t.Fatalf("got %d %s", r.status, r.body)
		}
		if evs := s.Google().Events(); len(evs) != 1 || !evs[0].Test {
			t.Errorf("recorded %+v, want one test event", evs)
		}
	})
	t.Run("injected fault has the rpc shape", func(t *testing.T) {
		t.Parallel()
		s, ts := startSandbox(t, Options{})
		tok := accessToken(t, ts)
		s.SetFault(googleName, Fault{Status: 429, RetryAfter: 3 * time.Second})
		r := postBearer(t, ts, "/v1/events:ingest", tok, dmRequestJSON(dmEventJSON(now, "t-1")))
		if e := r.rpcErr(t); r.status != 429 || e.Status != "RESOURCE_EXHAUSTED" || r.header.Get("Retry-After") != "3" {
			t.Fatalf("got %d %v %s", r.status, r.header, r.body)
		}
	})
}

// TestGoogleAdminAPI: the Google emulators' recordings through the shared
// admin API, filtered by their dedupe id, and reset.
func TestGoogleAdminAPI(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{})
	tok := accessToken(t, ts)
	if r := postBearer(t, ts, "/v1/events:ingest", tok, dmRequestJSON(dmEventJSON(testNow, "t-1"), dmEventJSON(testNow, "t-2"))); r.status != 200 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	get := func(path string) response {
		req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return do(t, ts.Client(), req)
	}
	var evs struct {
		Count  int             `json:"count"`
		Events []RecordedEvent `json:"events"`
	}
	r := get("/_sandbox/google/events?event_id=t-2")
	if json.Unmarshal(r.body, &evs) != nil || evs.Count != 1 || evs.Events[0].EventID != "t-2" {
		t.Fatalf("events: %d %s", r.status, r.body)
	}
	var st RecorderStats
	if r := get("/_sandbox/google/stats"); json.Unmarshal(r.body, &st) != nil || st.Accepted != 2 || st.Requests != 2 {
		t.Fatalf("stats: %s (the token request counts too)", r.body)
	}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/_sandbox/google/reset", nil)
	if r := do(t, ts.Client(), req); r.status != 200 || len(s.Google().Events()) != 0 {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
}
