package destination

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"
)

// maxAnswerBytes bounds what PostJSON reads of an answer, so a huge error
// page cannot cost memory. Per-row answers are the largest legitimate ones:
// Google Ads' results for 2,000 rows with partial-failure details, and
// LinkedIn's for 5,000 elements, run to a few MiB.
const maxAnswerBytes = 8 << 20

// Answer is a platform's HTTP answer, read in full (up to 8 MiB).
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// PostJSON makes the one POST of a Send: body as application/json with
// header's fields added. A transport failure (refused, reset, timeout, the
// context ending) comes back as a *RetryableError whose detail names no URL
// and has every secret replaced by [REDACTED], so tokens in a URL or header
// never reach a log or an outcome. Any HTTP answer is returned for the
// platform's classify to judge.
func PostJSON(ctx context.Context, hc *http.Client, rawURL string, header http.Header, body []byte, secrets ...string) (Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return Answer{}, &PermanentError{Reason: "bad_request", Detail: RedactError(err, secrets...)}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Answer{}, TransportFailure(err, secrets...)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return Answer{}, &RetryableError{Reason: "network_error", Detail: "reading response: " + RedactError(err, secrets...)}
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: rb}, nil
}

// NewHTTPClient is the client a destination uses when none is given: its own
// keep-alive transport sized to its concurrency, and timeout per request.
func NewHTTPClient(timeout time.Duration, concurrency int) *http.Client {
	return &http.Client{Timeout: timeout, Transport: NewTransport(concurrency)}
}

// DataBody renders {"data":[payload,…]}, the body of APIs whose request is
// just the batch under "data" (Snapchat, Pinterest).
func DataBody(batch []Prepared) []byte {
	b := make([]byte, 0, PayloadBytes(batch)+16)
	b = append(b, `{"data":`...)
	b = AppendPayloads(b, batch)
	return append(b, '}')
}
