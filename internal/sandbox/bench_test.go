package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkMetaAccept1000 measures the sandbox accepting one 1000-event batch
// per operation, over loopback HTTP with the real client ("http") and on the
// handler alone ("handler"). The body is the same each time, so after the
// first operation every event also takes the duplicate path.
func BenchmarkMetaAccept1000(b *testing.B) {
	body := mustJSON(map[string]any{"data": validEvents(time.Now(), "bench", metaMaxEvents)})

	b.Run("http", func(b *testing.B) {
		s := New(Options{})
		ts := httptest.NewServer(s.Handler())
		defer ts.Close()
		client := ts.Client()
		url := eventsURL(ts, testPixel, testToken)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
		b.ReportMetric(float64(s.Meta().Stats().Accepted)/b.Elapsed().Seconds(), "events/s")
	})

	b.Run("handler", func(b *testing.B) {
		s := New(Options{})
		h := s.Handler()
		url := "/v21.0/" + testPixel + "/events?access_token=" + testToken
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
		b.ReportMetric(float64(s.Meta().Stats().Accepted)/b.Elapsed().Seconds(), "events/s")
	})
}

// FuzzMetaEvents feeds arbitrary bodies to the events endpoint: the handler
// must answer 200 with an accurate count, or a 4xx with the Graph envelope
// and nothing recorded.
func FuzzMetaEvents(f *testing.F) {
	valid := mustJSON(map[string]any{"data": validEvents(testNow, "fz", 2)})
	f.Add(valid)
	f.Add([]byte(`{"data":[]}`))
	f.Add([]byte(`{"data":"[{\"event_name\":\"Lead\"}]"}`))
	f.Add([]byte(`{"data":[{"event_name":"x","user_data":{"em":["` + sha("a") + `", 5]}}]}`))
	f.Add([]byte(`data=%5B%7B%7D%5D&access_token=t`))
	f.Add([]byte(`[1,[2,{"a":"]"}],"\"",{}]`))
	f.Add(bytes.Replace(valid, []byte(`"em"`), []byte(`"em" `), 1))

	clock := newFakeClock()
	s := New(Options{Clock: clock.Now})
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		before := s.Meta().Stats().Accepted
		req := httptest.NewRequest(http.MethodPost, "/v21.0/"+testPixel+"/events?access_token=t", bytes.NewReader(body))
		if len(body) > 0 && body[0] != '{' && !strings.HasPrefix(string(body), "[") {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		accepted := s.Meta().Stats().Accepted - before

		switch {
		case rec.Code == http.StatusOK:
			var ok struct {
				EventsReceived int64 `json:"events_received"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &ok); err != nil || ok.EventsReceived != accepted || accepted < 1 {
				t.Fatalf("200 with body %s after recording %d events", rec.Body, accepted)
			}
		case rec.Code >= 400 && rec.Code < 500:
			var e struct {
				Error *struct {
					Code int `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Code == 0 {
				t.Fatalf("%d with body %s: want a Graph error", rec.Code, rec.Body)
			}
			if accepted != 0 {
				t.Fatalf("%d but recorded %d events", rec.Code, accepted)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}
