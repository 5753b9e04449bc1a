package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

const adsPath = "/google_ads/v21/customers/1234567890:uploadClickConversions"

func adsConversion(now time.Time, order string) map[string]any {
	return map[string]any{
		"gclid":              "Cj0KCQiA",
		"conversionAction":   "customers/1234567890/conversionActions/99",
		"conversionDateTime": now.Add(-time.Hour).UTC().Format("2006-01-02 15:04:05-07:00"),
		"conversionValue":    10.5,
		"currencyCode":       "USD",
		"orderId":            order,
		"userIdentifiers":    []any{map[string]any{"hashedEmail": sha("johnsmith@gmail.com")}},
	}
}

type adsAnswer struct {
	Results             []map[string]any `json:"results"`
	PartialFailureError *struct {
		Details []struct {
			Errors []struct {
				ErrorCode map[string]string `json:"errorCode"`
				Location  struct {
					FieldPathElements []struct {
						FieldName string `json:"fieldName"`
						Index     *int   `json:"index"`
					} `json:"fieldPathElements"`
				} `json:"location"`
			} `json:"errors"`
		} `json:"details"`
	} `json:"partialFailureError"`
}

// rowErrors maps row index to the error names reported for it.
func (a adsAnswer) rowErrors() map[int][]string {
	out := map[int][]string{}
	if a.PartialFailureError == nil {
		return out
	}
	for _, d := range a.PartialFailureError.Details {
		for _, e := range d.Errors {
			for _, v := range e.ErrorCode {
				out[*e.Location.FieldPathElements[0].Index] = append(out[*e.Location.FieldPathElements[0].Index], v)
			}
		}
	}
	return out
}

func decodeAds(t *testing.T, r response) adsAnswer {
	t.Helper()
	var a adsAnswer
	if r.status != 200 || json.Unmarshal(r.body, &a) != nil {
		t.Fatalf("got %d %s, want a 200 upload answer", r.status, r.body)
	}
	return a
}

// TestGoogleAdsRowRejections: each bad row is reported at its index with
// the API's error name, and the good row beside it is applied.
func TestGoogleAdsRowRejections(t *testing.T) {
	t.Parallel()
	now := testNow
	tests := []struct {
		name   string
		path   string
		mutate func(c map[string]any)
		want   string
	}{
		{"unhashed email", adsPath, func(c map[string]any) {
			c["userIdentifiers"] = []any{map[string]any{"hashedEmail": "john@example.com"}}
		}, "INVALID_USER_IDENTIFIER"},
		{"address on a click conversion", adsPath, func(c map[string]any) {
			c["userIdentifiers"] = []any{map[string]any{"addressInfo": map[string]any{"hashedFirstName": sha("john")}}}
		}, "UNSUPPORTED_USER_IDENTIFIER"},
		{"six identifiers", adsPath, func(c map[string]any) {
			ids := make([]any, 6)
			for i := range ids {
				ids[i] = map[string]any{"hashedEmail": sha("a")}
			}
			c["userIdentifiers"] = ids
		}, "TOO_MANY"},
		{"date time without zone", adsPath, func(c map[string]any) { c["conversionDateTime"] = "2026-02-28 11:00:00" }, "INVALID_FIELD_VALUES_IN_DATE_TIME"},
		{"date time RFC 3339", adsPath, func(c map[string]any) { c["conversionDateTime"] = "2026-02-28T11:00:00Z" }, "INVALID_FIELD_VALUES_IN_DATE_TIME"},
		{"v21 expired", adsPath, func(c map[string]any) { c["conversionDateTime"] = "2025-11-01 11:00:00+00:00" }, "EXPIRED_EVENT"},
		{"v20 expired click", strings.Replace(adsPath, "v21", "v20", 1), func(c map[string]any) { c["conversionDateTime"] = "2025-11-01 11:00:00+00:00" }, "EXPIRED_CLICK"},
		{"v21 too recent", adsPath, func(c map[string]any) { c["gclid"] = googleAdsTooRecentPrefix + "x" }, "TOO_RECENT_EVENT"},
		{"v19 too recent click", strings.Replace(adsPath, "v21", "v19", 1), func(c map[string]any) { c["gclid"] = googleAdsTooRecentPrefix + "x" }, "TOO_RECENT_CLICK"},
		{"both braids", adsPath, func(c map[string]any) { delete(c, "gclid"); c["gbraid"], c["wbraid"] = "g", "w" }, "GBRAID_WBRAID_BOTH_SET"},
		{"other customer's action", adsPath, func(c map[string]any) { c["conversionAction"] = "customers/1/conversionActions/99" }, "NO_CONVERSION_ACTION_FOUND"},
		{"ad personalization consent", adsPath, func(c map[string]any) { c["consent"] = map[string]any{"adPersonalization": "GRANTED"} }, "VALUE_MUST_BE_UNSET"},
		{"nothing to attribute", adsPath, func(c map[string]any) { delete(c, "gclid"); delete(c, "userIdentifiers") }, "REQUIRED"},
		{"order twice in the request", adsPath, func(c map[string]any) { c["orderId"] = "o-0" }, "DUPLICATE_ORDER_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			bad := adsConversion(now, "o-1")
			tt.mutate(bad)
			r := postBearer(t, ts, tt.path, accessToken(t, ts), map[string]any{
				"conversions": []any{adsConversion(now, "o-0"), bad}, "partialFailure": true})
			a := decodeAds(t, r)
			errs := a.rowErrors()
			if len(errs[0]) != 0 || !strings.Contains(strings.Join(errs[1], ","), tt.want) {
				t.Fatalf("row errors %v, want %s on row 1 only", errs, tt.want)
			}
			if len(a.Results) != 2 || len(a.Results[0]) == 0 || len(a.Results[1]) != 0 {
				t.Errorf("results %v: want row 0 filled, row 1 empty", a.Results)
			}
			if n := len(s.GoogleAds().Events()); n != 1 {
				t.Errorf("recorded %d, want the good row", n)
			}
		})
	}
}

func TestGoogleAdsRequestRejections(t *testing.T) {
	t.Parallel()
	now := testNow
	many := make([]any, googleAdsMaxRows+1)
	for i := range many {
		many[i] = adsConversion(now, "o")
	}
	tests := []struct {
		name       string
		path       string
		token      bool
		body       map[string]any
		wantStatus int
		wantInBody string
	}{
		{"no token", adsPath, false, map[string]any{"conversions": []any{adsConversion(now, "o")}, "partialFailure": true}, 401, "OAUTH_TOKEN_INVALID"},
		{"partial failure off", adsPath, true, map[string]any{"conversions": []any{adsConversion(now, "o")}}, 400, "partial_failure must be true"},
		{"too many rows", adsPath, true, map[string]any{"conversions": many, "partialFailure": true}, 400, "TOO_MANY_CONVERSIONS_IN_REQUEST"},
		{"snake case field", adsPath, true, map[string]any{"conversions": []any{adsConversion(now, "o")}, "partial_failure": true}, 400, "partial_failure"},
		{"unknown version", strings.Replace(adsPath, "v21", "v2", 1), true, map[string]any{"conversions": []any{adsConversion(now, "o")}, "partialFailure": true}, 404, "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ts := startSandbox(t, Options{})
			tok := ""
			if tt.token {
				tok = accessToken(t, ts)
			}
			r := postBearer(t, ts, tt.path, tok, tt.body)
			r.rpcErr(t)
			if r.status != tt.wantStatus || !strings.Contains(string(r.body), tt.wantInBody) {
				t.Fatalf("got %d %s, want %d with %q", r.status, r.body, tt.wantStatus, tt.wantInBody)
			}
		})
	}
}

func TestGoogleAdsDuplicatesAndAdjustments(t *testing.T) {
	t.Parallel()
	now := testNow
	s, ts := startSandbox(t, Options{})
	tok := accessToken(t, ts)
	up := func(c map[string]any) adsAnswer {
		return decodeAds(t, postBearer(t, ts, adsPath, tok, map[string]any{"conversions": []any{c}, "partialFailure": true}))
	}
	if e := up(adsConversion(now, "o-1")).rowErrors(); len(e) != 0 {
		t.Fatalf("first: %v", e)
	}
	if e := up(adsConversion(now, "o-1")).rowErrors(); e[0][0] != "ORDER_ID_ALREADY_IN_USE" {
		t.Fatalf("same order: %v", e)
	}
	noOrder := adsConversion(now, "")
	delete(noOrder, "orderId")
	if e := up(noOrder).rowErrors(); e[0][0] != "CLICK_CONVERSION_ALREADY_EXISTS" {
		t.Fatalf("same click and time: %v", e)
	}
	adjPath := strings.Replace(adsPath, "uploadClickConversions", "uploadConversionAdjustments", 1)
	adj := func(typ, order string, extra map[string]any) map[int][]string {
		row := map[string]any{"conversionAction": "customers/1234567890/conversionActions/99", "adjustmentType": typ,
			"adjustmentDateTime": now.UTC().Format("2006-01-02 15:04:05-07:00"), "orderId": order}
		for k, v := range extra {
			row[k] = v
		}
		return decodeAds(t, postBearer(t, ts, adjPath, tok, map[string]any{"conversionAdjustments": []any{row}, "partialFailure": true})).rowErrors()
	}
	if e := adj("RETRACTION", "o-1", nil); len(e) != 0 {
		t.Fatalf("retraction: %v", e)
	}
	if e := adj("RETRACTION", "o-1", nil); e[0][0] != "CONVERSION_ALREADY_RETRACTED" {
		t.Fatalf("retraction again: %v", e)
	}
	if e := adj("RETRACTION", "o-9", nil); e[0][0] != "CONVERSION_NOT_FOUND" {
		t.Fatalf("unknown order: %v", e)
	}
	if e := adj("RESTATEMENT", "o-1", nil); e[0][0] != "REQUIRED" {
		t.Fatalf("restatement without value: %v", e)
	}
	if e := adj("RETRACTION", "o-1", map[string]any{"restatementValue": map[string]any{"adjustedValue": 1}}); e[0][0] != "RESTATEMENT_VALUE_SET_FOR_RETRACTION" {
		t.Fatalf("retraction with value: %v", e)
	}
	if st := s.GoogleAds().Stats(); st.Accepted != 2 {
		t.Errorf("stats %+v, want the conversion and the retraction", st)
	}
	s.SetFault(googleAdsName, Fault{Status: http.StatusTooManyRequests})
	r := postBearer(t, ts, adsPath, tok, map[string]any{"conversions": []any{adsConversion(now, "o-2")}, "partialFailure": true})
	if r.status != 429 || !strings.Contains(string(r.body), "quotaError") {
		t.Errorf("fault: %d %s", r.status, r.body)
	}
}
