package ingest

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/signalpipe/signalpipe/internal/event"
)

func TestDecodeCRMProfile(t *testing.T) {
	t.Parallel()
	d := testDecoder(t)
	base := `{"event_id":"e","event_name":"qualified_lead","event_time":"2025-03-14T00:00:00Z","source":"crm","user":{"external_id":"x"}`
	v := 1200.5
	tests := []struct {
		name    string
		in      string
		want    *event.Profile
		wantErr bool
	}{
		{"absent", base + `}`, nil, false},
		{"full", base + `,"profile":{"lifecycle_stage":"customer","customer_value":1200.5,"exclusions":["unsubscribed","do_not_sell"]}}`,
			&event.Profile{LifecycleStage: "customer", CustomerValue: &v, Exclusions: []string{"unsubscribed", "do_not_sell"}}, false},
		{"unknown exclusion", base + `,"profile":{"exclusions":["maybe"]}}`, nil, true},
		{"negative value", base + `,"profile":{"customer_value":-1}}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := d.Decode([]byte(tt.in), testOrigin, testReceived)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !reflect.DeepEqual(ev.Profile, tt.want) {
				t.Errorf("Profile = %+v, want %+v", ev.Profile, tt.want)
			}
		})
	}
}

// TestIdentityKey: the key is the highest-ranked identifier's, the same
// spelling of one email meets, and no identifier appears in clear.
func TestIdentityKey(t *testing.T) {
	t.Parallel()
	key := func(u event.User) []byte { return IdentityKey(&event.Event{EventID: "ev", User: u}) }
	tests := []struct {
		name string
		a, b event.User
		same bool
	}{
		{"user id outranks anonymous id", event.User{UserID: "user-q", AnonymousID: "anon-q"}, event.User{UserID: "user-q"}, true},
		{"anonymous id outranks external id", event.User{AnonymousID: "anon-q", ExternalID: "x"}, event.User{AnonymousID: "anon-q", Email: "z@z.example"}, true},
		{"email case and spaces do not matter", event.User{Email: " Ada@Example.com"}, event.User{Email: "ada@example.com"}, true},
		// sha256("ada@example.com"), computed with sha256sum
		{"a hashed email meets the plain one", event.User{Email: "Ada@Example.com"}, event.User{Email: "B5FC85E55755F9E0D030A10AB4429B6B2944855F9A0D60077FE832BECBC41D72"}, true},
		{"another hash does not", event.User{Email: "Ada@Example.com"}, event.User{Email: "c5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72"}, false},
		{"kinds do not collide", event.User{UserID: "same-q"}, event.User{AnonymousID: "same-q"}, false},
		{"no identifier keys by event id", event.User{}, event.User{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ka, kb := key(tt.a), key(tt.b)
			if bytes.Equal(ka, kb) != tt.same {
				t.Errorf("keys %s and %s: same = %v, want %v", ka, kb, !tt.same, tt.same)
			}
			for _, v := range []string{tt.a.UserID, tt.a.AnonymousID, tt.a.Email} {
				if v != "" && bytes.Contains(ka, []byte(v)) {
					t.Errorf("key %s contains %q in clear", ka, v)
				}
			}
		})
	}
	ids := Identities(&event.Event{User: event.User{Email: "e@x.example", ExternalID: "x", UserID: "u", AnonymousID: "a"}})
	var kinds []string
	for _, id := range ids {
		kinds = append(kinds, id.Kind)
	}
	if !reflect.DeepEqual(kinds, []string{KindUser, KindAnonymous, KindExternal, KindEmail}) {
		t.Errorf("identities in order %v", kinds)
	}
}

func TestDecodeConsentCategories(t *testing.T) {
	t.Parallel()
	d := testDecoder(t)
	tests := []struct {
		name string
		in   string
		want map[string]bool
	}{
		{"envelope cmp map", `{"event_id":"e","event_name":"lead","event_time":"2025-03-14T00:00:00Z","source":"crm","user":{"external_id":"x"},"consent":{"ad_user_data":"granted","cmp":{"C0004":false,"C0002":true}}}`,
			map[string]bool{"C0004": false, "C0002": true}},
		{"envelope without one", `{"event_id":"e","event_name":"lead","event_time":"2025-03-14T00:00:00Z","source":"crm","user":{"external_id":"x"},"consent":{"ad_user_data":"granted"}}`, nil},
		{"segment categoryPreferences", `{"type":"track","event":"Order Completed","messageId":"m1","timestamp":"2025-03-14T15:09:26.535Z","userId":"u1",
			"context":{"consent":{"categoryPreferences":{"Advertising":true,"Analytics":false}}},"properties":{"order_id":"o1","revenue":1,"currency":"EUR"}}`,
			map[string]bool{"Advertising": true, "Analytics": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := d.Decode([]byte(tt.in), testOrigin, testReceived)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev.ConsentCategories, tt.want) {
				t.Errorf("ConsentCategories = %v, want %v", ev.ConsentCategories, tt.want)
			}
		})
	}
	if _, err := d.Decode([]byte(`{"event_id":"e","event_name":"lead","event_time":"2025-03-14T00:00:00Z","source":"crm","user":{"external_id":"x"},"consent":{"cmp":{"C1":"yes"}}}`), testOrigin, testReceived); err == nil {
		t.Error("a non-boolean category passed the schema")
	}
}
