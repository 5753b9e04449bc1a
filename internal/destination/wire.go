package destination

import (
	"net"
	"net/http"
	"time"
)

// NewTransport returns the HTTP transport every destination uses: bounded
// dial and TLS handshake times, and keep-alive connections up to
// maxIdlePerHost (a destination's request concurrency). Each destination
// gets its own, so its Close releases only its own idle connections.
func NewTransport(maxIdlePerHost int) *http.Transport {
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: maxIdlePerHost,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second,
		ForceAttemptHTTP2:   true,
	}
}

// AppendPayloads appends the batch's payloads to b as one JSON array, the
// shape every platform's batch body wraps.
func AppendPayloads(b []byte, batch []Prepared) []byte {
	b = append(b, '[')
	for i, p := range batch {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p.Payload...)
	}
	return append(b, ']')
}

// PayloadBytes is the size of the batch's payloads, to size a body buffer.
func PayloadBytes(batch []Prepared) int {
	n := 2
	for _, p := range batch {
		n += len(p.Payload) + 1
	}
	return n
}
