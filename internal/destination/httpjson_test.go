package destination

import (
	"encoding/json"
	"testing"
)

func TestDataBody(t *testing.T) {
	t.Parallel()
	body := DataBody([]Prepared{{Payload: []byte(`{"a":1}`)}, {Payload: []byte(`{"b":2}`)}})
	var got struct {
		Data []map[string]int `json:"data"`
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Data) != 2 || got.Data[1]["b"] != 2 {
		t.Errorf("DataBody = %s (%v)", body, err)
	}
}
