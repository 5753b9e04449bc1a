package sandbox

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzSplitJSONArray checks the byte-level splitter against encoding/json on
// every valid JSON array: same number of elements, same bytes.
func FuzzSplitJSONArray(f *testing.F) {
	for _, seed := range []string{
		`[]`, `[ ]`, `[1]`, `[1,2 , 3]`, `[{"a":"]},["}, ["x\"]", {"b":[1,[2]]}], "\\", null ]`,
		"[\n\t{\"k\":\"v\"}\r\n,\n{}\n]", `[[],{},"",0,-1.5e3,true,false,null]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want []json.RawMessage
		if !json.Valid(data) || json.Unmarshal(data, &want) != nil {
			return // not a valid JSON array: outside the splitter's contract
		}
		spans, overflow := splitJSONArray(data, nil, len(want))
		if overflow || len(spans) != len(want) {
			t.Fatalf("split %q into %d spans (overflow %v); want %d", data, len(spans), overflow, len(want))
		}
		for i, sp := range spans {
			if got := data[sp.start:sp.end]; !bytes.Equal(got, want[i]) {
				t.Fatalf("element %d of %q: got %q, want %q", i, data, got, want[i])
			}
		}
		if len(want) > 0 {
			if _, overflow := splitJSONArray(data, nil, len(want)-1); !overflow {
				t.Fatalf("%q has %d elements but a limit of %d did not overflow", data, len(want), len(want)-1)
			}
		}
	})
}
