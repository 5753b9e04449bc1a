package microsoft

import (
	"net/http"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// TestClassify is the contract for both APIs' answers.
func TestClassify(t *testing.T) {
	t.Parallel()
	D, R, X := destination.Delivered, destination.Rejected, destination.Retry
	type want struct {
		kind       string // results, retry, permanent
		statuses   []destination.Status
		reason     string
		credential bool
		after      time.Duration
	}
	tests := []struct {
		name   string
		api    string
		status int
		header http.Header
		body   string
		n      int
		want   want
	}{
		{"uet all received", APIUET, 200, nil, `{"eventsReceived":2}`, 2, want{kind: "results", statuses: []destination.Status{D, D}}},
		{"uet errors name events", APIUET, 200, nil, `{"eventsReceived":2,"errors":[{"index":1,"field":"data[1].userData.em","message":"must be hashed"}]}`, 3,
			want{kind: "results", statuses: []destination.Status{D, R, D}}},
		{"uet count does not add up", APIUET, 200, nil, `{"eventsReceived":1,"errors":[{"index":0,"message":"x"}]}`, 3,
			want{kind: "results", statuses: []destination.Status{R, X, X}}},
		{"uet 400 naming events", APIUET, 400, nil, `{"error":{"code":"InvalidEvents","message":"1 events failed validation"},"errors":[{"index":0,"message":"x"}]}`, 2,
			want{kind: "results", statuses: []destination.Status{R, X}}},
		{"uet 400 naming none", APIUET, 400, nil, `{"error":{"code":"InvalidRequest","message":"data must hold 1 to 1000 events"}}`, 2, want{kind: "permanent", reason: "invalid_request"}},
		{"uet 401", APIUET, 401, nil, `{"error":{"code":"Unauthorized","message":"m"}}`, 1, want{kind: "permanent", reason: "auth_error", credential: true}},
		{"uet 403 pilot not enabled", APIUET, 403, nil, `{"error":{"code":"Forbidden","message":"m"}}`, 1, want{kind: "permanent", reason: "permission_error", credential: true}},
		{"uet 404 tag", APIUET, 404, nil, `{"error":{"code":"TagNotFound","message":"m"}}`, 1, want{kind: "permanent", reason: "unknown_tag", credential: true}},
		{"uet 429", APIUET, 429, http.Header{"Retry-After": {"5"}}, ``, 1, want{kind: "retry", reason: "throttled", after: 5 * time.Second}},
		{"uet 503", APIUET, 503, nil, ``, 1, want{kind: "retry", reason: "platform_unavailable"}},
		{"offline applied", APIOffline, 200, nil, `{"PartialErrors":null}`, 2, want{kind: "results", statuses: []destination.Status{D, D}}},
		{"offline partial errors", APIOffline, 200, nil, `{"PartialErrors":[{"Code":4801,"ErrorCode":"OfflineConversionMicrosoftClickIdInvalid","Index":0,"Message":"m","Type":"BatchError"}]}`, 2,
			want{kind: "results", statuses: []destination.Status{R, D}}},
		{"offline token expired", APIOffline, 401, nil, `{"Type":"ApiFault","OperationErrors":[{"Code":109,"ErrorCode":"AuthenticationTokenExpired","Message":"m"}]}`, 1,
			want{kind: "permanent", reason: "auth_error", credential: true}},
		{"offline invalid account on 400", APIOffline, 400, nil, `{"Type":"ApiFault","OperationErrors":[{"Code":1102,"ErrorCode":"InvalidAccount","Message":"m"}]}`, 1,
			want{kind: "permanent", reason: "auth_error", credential: true}},
		{"offline call rate exceeded on 400", APIOffline, 400, nil, `{"Type":"ApiFault","OperationErrors":[{"Code":117,"ErrorCode":"CallRateExceeded","Message":"m"}]}`, 1,
			want{kind: "retry", reason: "throttled", after: DefaultThrottleBackoff}},
		{"offline batch errors on 400", APIOffline, 400, nil, `{"Type":"ApiFault","BatchErrors":[{"Code":4803,"ErrorCode":"OfflineConversionTimeInvalid","Index":1,"Message":"m"}]}`, 2,
			want{kind: "results", statuses: []destination.Status{X, R}}},
		{"offline other 400", APIOffline, 400, nil, `{"Type":"ApiFault","OperationErrors":[{"Code":4810,"ErrorCode":"OfflineConversionsLimitExceeded","Message":"m"}]}`, 1,
			want{kind: "permanent", reason: "invalid_request"}},
		{"offline 500 page", APIOffline, 500, nil, `<html>`, 1, want{kind: "retry", reason: "platform_unavailable"}},
		{"offline 408", APIOffline, 408, nil, ``, 1, want{kind: "retry", reason: "timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			res, err := classify(tt.api, tt.status, h, []byte(tt.body), tt.n)
			switch tt.want.kind {
			case "results":
				if err != nil || len(res) != tt.n {
					t.Fatalf("classify = %v, %v", res, err)
				}
				for i, r := range res {
					if r.Status != tt.want.statuses[i] {
						t.Errorf("result %d = %+v, want status %d", i, r, tt.want.statuses[i])
					}
					if r.Status == destination.Rejected && (r.Reason == "" || r.Detail == "") {
						t.Errorf("result %d = %+v, want a reason and detail", i, r)
					}
				}
			case "retry":
				re, ok := destination.AsRetryable(err)
				if !ok || re.Reason != tt.want.reason || (tt.want.after != 0 && re.After != tt.want.after) {
					t.Fatalf("err = %#v, want retryable %s after %s", err, tt.want.reason, tt.want.after)
				}
			case "permanent":
				pe, ok := destination.AsPermanent(err)
				if !ok || pe.Reason != tt.want.reason || pe.Credential != tt.want.credential {
					t.Fatalf("err = %#v, want permanent %s (credential %v)", err, tt.want.reason, tt.want.credential)
				}
			}
		})
	}
}
