package kafkax

import (
	"strconv"

	json "github.com/goccy/go-json"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Header names on dead-letter records.
const (
	HeaderReason          = "sp.reason"
	HeaderDetail          = "sp.detail"
	HeaderPath            = "sp.path"
	HeaderStage           = "sp.stage"
	HeaderDestination     = "sp.destination"
	HeaderSourceTopic     = "sp.source.topic"
	HeaderSourcePartition = "sp.source.partition"
	HeaderSourceOffset    = "sp.source.offset"
)

// DeadLetter describes why a record went to the dead-letter topic.
type DeadLetter struct {
	Stage       string
	Reason      string
	Detail      string
	Path        string
	Destination string
	Origin      event.Origin
}

// DLQRecord builds a dead-letter record carrying the original value and the
// reason and source coordinates in headers.
func DLQRecord(topic string, key, value []byte, d DeadLetter) *kgo.Record {
	h := []kgo.RecordHeader{
		{Key: HeaderStage, Value: []byte(d.Stage)},
		{Key: HeaderReason, Value: []byte(d.Reason)},
		{Key: HeaderSourceTopic, Value: []byte(d.Origin.Topic)},
		{Key: HeaderSourcePartition, Value: []byte(strconv.FormatInt(int64(d.Origin.Partition), 10))},
		{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(d.Origin.Offset, 10))},
	}
	if d.Detail != "" {
		h = append(h, kgo.RecordHeader{Key: HeaderDetail, Value: []byte(d.Detail)})
	}
	if d.Path != "" {
		h = append(h, kgo.RecordHeader{Key: HeaderPath, Value: []byte(d.Path)})
	}
	if d.Destination != "" {
		h = append(h, kgo.RecordHeader{Key: HeaderDestination, Value: []byte(d.Destination)})
	}
	return &kgo.Record{Topic: topic, Key: key, Value: value, Headers: h}
}

// OutcomeRecord builds an sp.outcomes record keyed by event id (or by the
// input record when there is none).
func OutcomeRecord(topic string, o event.Outcome) *kgo.Record {
	v, _ := json.Marshal(o) // Outcome has no field that can fail to encode
	key := o.EventID
	if key == "" {
		key = o.Record
	}
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: v}
}

// Header returns the value of the first header named key.
func Header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
