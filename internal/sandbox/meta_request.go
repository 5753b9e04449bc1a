package sandbox

import (
	"bytes"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	json "github.com/goccy/go-json"
)

// metaRequest is what a Conversions API request carries besides its path.
type metaRequest struct {
	token         string
	testEventCode string
	// data is the data parameter's JSON text, nil when absent.
	data []byte
	// dataValidated reports that data is already known to be valid JSON.
	dataValidated bool
}

// rawJSON captures a JSON value without copying it: the slice points into
// the decoded body, which outlives the request's processing.
type rawJSON []byte

// UnmarshalJSON keeps a reference to b.
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// parseMetaRequest reads the parameters the way the Graph API does: from a
// JSON body, a form-encoded or multipart body whose data field holds the JSON
// array, and the query string. The access token may also come as
// "Authorization: Bearer" (or "OAuth") header.
func parseMetaRequest(r *http.Request, body []byte) (metaRequest, *graphError) {
	var req metaRequest
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
	case mediaType == "application/json" || (trimmed[0] == '{' && mediaType != "multipart/form-data"):
		var top struct {
			Data          rawJSON `json:"data"`
			TestEventCode string  `json:"test_event_code"`
			AccessToken   string  `json:"access_token"`
		}
		if err := json.Unmarshal(trimmed, &top); err != nil {
			return req, paramError("Invalid JSON", "the request body is not a valid JSON object: "+err.Error())
		}
		req = metaRequest{token: top.AccessToken, testEventCode: top.TestEventCode,
			data: top.Data, dataValidated: true}
	case mediaType == "multipart/form-data":
		form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(metaMaxBodyBytes)
		if err != nil {
			return req, paramError("Invalid Form", "the multipart body cannot be parsed")
		}
		defer func() { _ = form.RemoveAll() }()
		v := url.Values(form.Value)
		req = metaRequest{token: v.Get("access_token"), testEventCode: v.Get("test_event_code")}
		if v.Has("data") {
			req.data = []byte(v.Get("data"))
		}
	default:
		v, err := url.ParseQuery(string(trimmed))
		if err != nil {
			return req, paramError("Invalid Form", "the form-encoded body cannot be parsed")
		}
		req = metaRequest{token: v.Get("access_token"), testEventCode: v.Get("test_event_code")}
		if v.Has("data") {
			req.data = []byte(v.Get("data"))
		}
	}

	query := r.URL.Query()
	if t := query.Get("access_token"); t != "" {
		req.token = t
	}
	if req.testEventCode == "" {
		req.testEventCode = query.Get("test_event_code")
	}
	if req.token == "" {
		auth := r.Header.Get("Authorization")
		for _, scheme := range []string{"Bearer ", "OAuth "} {
			if len(auth) > len(scheme) && strings.EqualFold(auth[:len(scheme)], scheme) {
				req.token = strings.TrimSpace(auth[len(scheme):])
			}
		}
	}
	return req, nil
}

// span locates one element of a JSON array: data[start:end].
type span struct{ start, end int }

// metaEventSpans checks the data parameter's shape (a JSON array of 1 to 1000
// elements, possibly sent as a JSON string) and locates its elements. It
// returns the array's text, which differs from data when data was a string.
func metaEventSpans(data []byte, validated bool, dst []span) ([]byte, []span, *graphError) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil, dst, paramError("Missing Data", "The parameter data is required")
	}
	if data[0] == '"' { // some clients send the array JSON-encoded as a string
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, dst, paramError("Invalid Data", "param data must be a JSON array")
		}
		data, validated = bytes.TrimSpace([]byte(s)), false
	}
	if len(data) == 0 || data[0] != '[' {
		return nil, dst, paramError("Invalid Data", "param data must be a JSON array")
	}
	if !validated && !json.Valid(data) {
		return nil, dst, paramError("Invalid Data", "param data is not valid JSON")
	}
	dst, overflow := splitJSONArray(data, dst, metaMaxEvents)
	switch {
	case overflow:
		return nil, dst, paramError("Too Many Events",
			"param data must contain at most 1000 events; split the batch")
	case len(dst) == 0:
		return nil, dst, paramError("Missing Data", "param data must contain at least one event")
	}
	return data, dst, nil
}

// splitJSONArray appends the spans of the elements of the valid JSON array
// data to dst. It stops and reports overflow once there are more than limit.
// A byte scan is enough because encoding/json has already validated data.
func splitJSONArray(data []byte, dst []span, limit int) (_ []span, overflow bool) {
	i := bytes.IndexByte(data, '[') + 1
	depth, start, inString := 0, -1, false
	for ; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case ',', ']':
			if depth > 0 {
				if c == ']' {
					depth--
				}
				continue
			}
			if start >= 0 {
				dst = append(dst, span{start, len(bytes.TrimRight(data[:i], " \t\r\n"))})
				start = -1
				if len(dst) > limit {
					return dst, true
				}
			}
			if c == ']' {
				return dst, false
			}
			continue
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}':
			depth--
		}
		if start < 0 {
			start = i
		}
	}
	return dst, false
}
