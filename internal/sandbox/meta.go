package sandbox

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const metaName = "meta"

// Limits of the Meta Conversions API (platform-apis.md §1).
const (
	metaMaxBodyBytes = 5 << 20
	metaMaxEvents    = 1000
	metaMaxEventAge  = 7 * 24 * time.Hour
	metaMaxStoreAge  = 62 * 24 * time.Hour // action_source=physical_store
	metaFutureSkew   = 60 * time.Second
)

// metaAPI emulates POST /{version}/{pixel_id}/events of the Conversions API.
type metaAPI struct {
	clock   func() time.Time
	tokens  map[string]string
	logger  *slog.Logger
	rec     *MetaRecorder
	scratch sync.Pool // *metaScratch
}

// metaScratch is the per-request working memory, pooled so that a batch
// costs allocations only for what is kept.
type metaScratch struct {
	body  bytes.Buffer
	spans []span
	recs  []metaRecord
	keys  []uint64
}

func newMetaAPI(clock func() time.Time, tokens map[string]string, logger *slog.Logger, maxRecorded int) *metaAPI {
	return &metaAPI{
		clock:   clock,
		tokens:  tokens,
		logger:  logger.With("platform", metaName),
		rec:     &MetaRecorder{log: newEventLog[metaRecord](maxRecorded)},
		scratch: sync.Pool{New: func() any { return new(metaScratch) }},
	}
}

func (m *metaAPI) name() string { return metaName }

func (m *metaAPI) routes() []route {
	return []route{{method: http.MethodPost, path: "/{version}/{pixel}/events", handler: m.serveEvents}}
}

func (m *metaAPI) writeFault(w http.ResponseWriter, f Fault) { writeGraphError(w, faultError(f)) }

func (m *metaAPI) counters() *requestCounters { return &m.rec.log.requestCounters }

func (m *metaAPI) stats() any { return m.rec.Stats() }

func (m *metaAPI) events(limit int, eventID string) any {
	var match func(*metaRecord) bool
	if eventID != "" {
		match = func(r *metaRecord) bool { return r.eventID == eventID }
	}
	recs := m.rec.log.last(limit, match)
	evs := make([]MetaEvent, len(recs))
	for i := range recs {
		evs[i] = recs[i].event()
	}
	return struct {
		Count  int         `json:"count"`
		Events []MetaEvent `json:"events"`
	}{len(evs), evs}
}

func (m *metaAPI) reset() { m.rec.Reset() }

func (m *metaAPI) serveEvents(w http.ResponseWriter, r *http.Request) {
	sc := m.scratch.Get().(*metaScratch)
	defer m.putScratch(sc)
	n, gerr := m.accept(w, r, sc)
	if gerr != nil {
		m.rec.log.rejected.Add(1)
		// The messages name fields and indexes, never customer data.
		m.logger.Debug("sandbox rejected request", "status", gerr.status, "code", gerr.Code,
			"subcode", gerr.Subcode, "reason", gerr.UserMsg)
		writeGraphError(w, gerr)
		return
	}
	writeMetaSuccess(w, n)
}

func (m *metaAPI) putScratch(sc *metaScratch) {
	clear(sc.recs) // drop references to this request's events
	sc.recs, sc.keys, sc.spans = sc.recs[:0], sc.keys[:0], sc.spans[:0]
	if sc.body.Cap() > 2*metaMaxBodyBytes {
		sc.body = bytes.Buffer{}
	}
	sc.body.Reset()
	m.scratch.Put(sc)
}

// accept checks one request against the contract and records its events; it
// returns the number of events accepted, or the error to answer with, in
// which case nothing was recorded.
func (m *metaAPI) accept(w http.ResponseWriter, r *http.Request, sc *metaScratch) (int, *graphError) {
	now := m.clock()
	version, pixel := r.PathValue("version"), r.PathValue("pixel")
	if !isGraphVersion(version) {
		return 0, &graphError{status: http.StatusBadRequest, Type: "OAuthException", Code: 2500,
			Message: "Unknown path components: /" + version}
	}
	if pixel == "" || !isDigits(pixel) {
		return 0, &graphError{status: http.StatusBadRequest, Type: "GraphMethodException", Code: 100,
			Subcode: subcodeUnknownObject,
			Message: "Unsupported post request. Object with ID '" + pixel + "' does not exist, " +
				"cannot be loaded due to missing permissions, or does not support this operation."}
	}
	body, gerr := readMetaBody(w, r, &sc.body)
	if gerr != nil {
		return 0, gerr
	}
	req, gerr := parseMetaRequest(r, body)
	if gerr != nil {
		return 0, gerr
	}
	if gerr := m.checkToken(pixel, req.token); gerr != nil {
		return 0, gerr
	}
	data, spans, gerr := metaEventSpans(req.data, req.dataValidated, sc.spans)
	sc.spans = spans
	if gerr != nil {
		return 0, gerr
	}

	// Validate every event before recording any: the batch is all or nothing.
	var ev metaWireEvent
	for i, sp := range spans {
		ev = metaWireEvent{}
		if gerr := ev.decode(i, data[sp.start:sp.end]); gerr != nil {
			return 0, gerr
		}
		if gerr := ev.check(i, now); gerr != nil {
			return 0, gerr
		}
		key := uint64(0)
		if ev.EventID != "" {
			key = m.rec.log.dedupeKey([3]string{pixel, ev.EventID, ev.EventName})
		}
		sc.recs = append(sc.recs, metaRecord{eventID: ev.EventID})
		sc.keys = append(sc.keys, key)
	}

	// One copy of the events' bytes serves every record of the batch: the
	// store holds compact JSON, not decoded maps, which keeps the garbage
	// collector's work flat however many events are stored.
	first, last := spans[0].start, spans[len(spans)-1].end
	chunk := bytes.Clone(data[first:last])
	batch := &metaBatch{
		pixel:         strings.Clone(pixel),
		testEventCode: strings.Clone(req.testEventCode),
		receivedAt:    now,
	}
	for i, sp := range spans {
		sc.recs[i].raw = chunk[sp.start-first : sp.end-first : sp.end-first]
		sc.recs[i].batch = batch
	}
	m.rec.log.add(sc.recs, sc.keys)
	return len(spans), nil
}

// readMetaBody reads the request body into buf, enforcing the size limit.
func readMetaBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) ([]byte, *graphError) {
	tooLarge := &graphError{status: http.StatusRequestEntityTooLarge, Type: "OAuthException", Code: 100,
		Message:   "Request body exceeds " + strconv.Itoa(metaMaxBodyBytes) + " bytes",
		UserTitle: "Request Too Large", UserMsg: "Send at most 5 MiB per request; split the batch."}
	if r.ContentLength > metaMaxBodyBytes {
		return nil, tooLarge
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, metaMaxBodyBytes)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		return nil, paramError("Unreadable Request", "reading the request body failed")
	}
	return buf.Bytes(), nil
}

func (m *metaAPI) checkToken(pixel, token string) *graphError {
	if token == "" {
		return tokenError("An access token is required to request this resource.")
	}
	if len(m.tokens) == 0 {
		return nil
	}
	want, ok := m.tokens[pixel]
	if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(token)) != 1 {
		return tokenError("Invalid OAuth access token - Cannot parse access token")
	}
	return nil
}

// writeMetaSuccess answers 200 with Meta's EventResponse.
func writeMetaSuccess(w http.ResponseWriter, n int) {
	trace := newTraceID()
	b := make([]byte, 0, 96)
	b = append(b, `{"events_received":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"messages":[],"fbtrace_id":"`...)
	b = append(b, trace...)
	b = append(b, `"}`...)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("X-Fb-Trace-Id", trace)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// isGraphVersion reports whether s looks like a Graph API version, "v21.0".
func isGraphVersion(s string) bool {
	number, ok := strings.CutPrefix(s, "v")
	major, minor, dot := strings.Cut(number, ".")
	return ok && dot && major != "" && minor != "" && isDigits(major) && isDigits(minor)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
