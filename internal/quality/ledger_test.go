package quality

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

func TestLedgerCheck(t *testing.T) {
	t.Parallel()
	routed := func(rec string, dests ...string) event.Outcome {
		return event.Outcome{Record: rec, Status: event.StatusRouted, Destinations: dests}
	}
	term := func(rec, dest string, s event.Status) event.Outcome {
		return event.Outcome{Record: rec, Destination: dest, Status: s, Reason: "r"}
	}
	tests := []struct {
		name           string
		inputs         []string
		outcomes       []event.Outcome
		wantBalanced   bool
		wantIncomplete int
		wantDuplicates int64
		wantUnknown    int
		wantComplete   int64
	}{
		{"invalid before routing", []string{"a"}, []event.Outcome{term("a", "", event.StatusInvalid)}, true, 0, 0, 0, 1},
		{"routed to two, both done", []string{"a"}, []event.Outcome{routed("a", "meta", "tiktok"), term("a", "meta", event.StatusDelivered), term("a", "tiktok", event.StatusRejected)}, true, 0, 0, 0, 1},
		{"routed to two, one pending", []string{"a"}, []event.Outcome{routed("a", "meta", "tiktok"), term("a", "meta", event.StatusDelivered)}, false, 1, 0, 0, 0},
		{"terminal before routed arrives", []string{"a"}, []event.Outcome{term("a", "meta", event.StatusDelivered)}, false, 1, 0, 0, 0},
		{"no outcome at all", []string{"a", "b"}, []event.Outcome{term("a", "", event.StatusInvalid)}, false, 1, 0, 0, 1},
		{"two outcomes for one destination", []string{"a"}, []event.Outcome{routed("a", "meta"), term("a", "meta", event.StatusDelivered), term("a", "meta", event.StatusDelivered)}, false, 0, 1, 0, 1},
		{"outcome for a record never produced", []string{"a"}, []event.Outcome{term("a", "", event.StatusInvalid), term("z", "", event.StatusInvalid)}, false, 0, 0, 1, 2},
		{"invalid and routed both", []string{"a"}, []event.Outcome{term("a", "", event.StatusInvalid), routed("a", "meta"), term("a", "meta", event.StatusDelivered)}, false, 1, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := NewLedger(true)
			for _, o := range tt.outcomes {
				o.At = time.Unix(1, 0)
				l.Add(o)
			}
			b := l.Check(tt.inputs)
			if b.Balanced != tt.wantBalanced || len(b.Incomplete) != tt.wantIncomplete || b.Duplicates != tt.wantDuplicates || len(b.Unknown) != tt.wantUnknown {
				t.Errorf("balance = %+v", b)
			}
			if got := l.Snapshot().Complete; got != tt.wantComplete {
				t.Errorf("complete = %d, want %d", got, tt.wantComplete)
			}
		})
	}
}

func TestLedgerSnapshotCounts(t *testing.T) {
	t.Parallel()
	l := NewLedger(false)
	l.Add(event.Outcome{Record: "a", Source: "web", Status: event.StatusInvalid, Reason: "malformed_json"})
	l.Add(event.Outcome{Record: "b", Source: "crm", Status: event.StatusRouted, Destinations: []string{"meta"}})
	l.Add(event.Outcome{Record: "b", Source: "crm", Destination: "meta", Status: event.StatusExpired, Reason: "too_old"})
	s := l.Snapshot()
	if s.Expected != 2 || s.Terminal != 2 || s.Outcomes[event.StatusInvalid] != 1 || s.ByDestination["meta"][event.StatusExpired] != 1 ||
		s.BySource["crm"][event.StatusExpired] != 1 || s.Reasons["ingest"]["invalid: malformed_json"] != 1 || s.Reasons["meta"]["expired: too_old"] != 1 {
		t.Errorf("snapshot = %+v", s)
	}
}

func TestServerToken(t *testing.T) {
	t.Parallel()
	s := &Server{Token: "t0k", Status: func() Status { return Status{} }}
	h := s.Handler()
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"health needs no token", "/healthz", "", 200},
		{"api without token", "/api/v1/status", "", 401},
		{"api with wrong token", "/api/v1/status", "Bearer nope", 401},
		{"api with token", "/api/v1/status", "Bearer t0k", 200},
		{"page with token in query", "/?token=t0k", "", 200},
		{"page without token", "/", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("%s: %d, want %d", tt.path, w.Code, tt.want)
			}
		})
	}
}
