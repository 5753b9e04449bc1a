package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/schema"
	"github.com/signalpipe/signalpipe/schemas"
)

var (
	validatorOnce sync.Once
	validator     *schema.Validator
	validatorErr  error
)

// testDecoder returns a Decoder with default options over the embedded
// schemas, compiled once for the whole test binary.
func testDecoder(t testing.TB) *Decoder {
	t.Helper()
	validatorOnce.Do(func() { validator, validatorErr = schema.New() })
	if validatorErr != nil {
		t.Fatalf("schema.New: %v", validatorErr)
	}
	return NewDecoder(validator, DecodeOptions{})
}

// example reads an example event shipped with the schemas.
func example(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := fs.ReadFile(schemas.FS, "examples/"+name)
	if err != nil {
		t.Fatalf("reading example: %v", err)
	}
	return raw
}

// testdata reads a record under testdata/decode.
func testdata(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "decode", name))
	if err != nil {
		t.Fatalf("reading testdata: %v", err)
	}
	return raw
}

var (
	testOrigin   = event.Origin{Topic: "events.web", Partition: 3, Offset: 1042}
	testReceived = time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
)

func f64(f float64) *float64 { return &f }

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// sameEvent reports the differences between two events, comparing times
// with Equal and requiring UTC.
func sameEvent(t *testing.T, got, want event.Event) {
	t.Helper()
	if !got.EventTime.Equal(want.EventTime) || got.EventTime.Location() != time.UTC {
		t.Errorf("EventTime = %v, want %v in UTC", got.EventTime, want.EventTime)
	}
	if !got.ReceivedAt.Equal(want.ReceivedAt) || got.ReceivedAt.Location() != time.UTC {
		t.Errorf("ReceivedAt = %v, want %v in UTC", got.ReceivedAt, want.ReceivedAt)
	}
	got.EventTime, want.EventTime = time.Time{}, time.Time{}
	got.ReceivedAt, want.ReceivedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("event =\n%s\nwant\n%s", g, w)
	}
}

func TestDecodeExamples(t *testing.T) {
	t.Parallel()
	d := testDecoder(t)
	tests := []struct {
		name string
		in   string
		want event.Event
	}{
		{
			name: "web purchase",
			in:   "web_purchase.json",
			want: event.Event{
				EventID:    "7c1e9b52-4f0a-4d9e-9a51-2f6f3b0c8d11",
				EventName:  event.NamePurchase,
				EventTime:  utc("2025-03-14T14:09:26.535Z"),
				ReceivedAt: testReceived,
				Source:     event.SourceWeb,
				User: event.User{
					UserID:      "cust-48213",
					AnonymousID: "a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
					Email:       "Jane.Doe@Example.com",
					Phone:       "+1 (415) 555-0134",
					FirstName:   "Jane",
					LastName:    "Doe",
					Address:     &event.Address{City: "San Francisco", State: "CA", Zip: "94107", Country: "US"},
				},
				Consent: &event.Consent{AdUserData: "granted", AdPersonalization: "granted", Analytics: "granted"},
				Context: event.Context{
					IP:        "203.0.113.42",
					UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
					PageURL:   "https://shop.example.com/checkout/thank-you?order=A-1042&gclid=Cj0KCQjw-gclid_AbC123&fbclid=IwAR2xYz_FbClid-MiXeD&utm_source=google",
					Referrer:  "https://shop.example.com/checkout",
					ClickIDs:  event.ClickIDs{Gclid: "Cj0KCQjw-gclid_AbC123", Fbclid: "IwAR2xYz_FbClid-MiXeD"},
					Cookies:   event.Cookies{Fbp: "fb.1.1710425366535.1098115397"},
				},
				Properties: event.Properties{
					Value:    f64(129.9),
					Currency: "USD",
					OrderID:  "A-1042",
					Contents: []event.Content{
						{ID: "SKU-1001", Quantity: 2, ItemPrice: f64(49.95)},
						{ID: "SKU-2002", Quantity: 1, ItemPrice: f64(30)},
					},
				},
				Origin: testOrigin,
			},
		},
		{
			name: "web page view: explicit gclid wins, the rest from the URL",
			in:   "web_page_view.json",
			want: event.Event{
				EventID:    "pv-0001",
				EventName:  event.NamePageView,
				EventTime:  utc("2025-03-14T14:00:00Z"),
				ReceivedAt: testReceived,
				Source:     event.SourceWeb,
				User:       event.User{AnonymousID: "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"},
				Context: event.Context{
					IP:        "2001:db8::1",
					UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/124.0",
					PageURL:   "https://www.example.com/landing?ttclid=E.C.P.TtClid_Value&ScCid=ScC1d-Value&epik=dj0yJnU9&rdt_cid=RdtCid123&li_fat_id=LiFat-1&msclkid=MsClk1d&gbraid=0AAAAAgbraid&wbraid=WbRaid1#section",
					ClickIDs: event.ClickIDs{
						Gclid: "ExplicitGclid", Gbraid: "0AAAAAgbraid", Wbraid: "WbRaid1",
						Ttclid: "E.C.P.TtClid_Value", ScCid: "ScC1d-Value", Epik: "dj0yJnU9",
						RdtCid: "RdtCid123", LiFatID: "LiFat-1", Msclkid: "MsClk1d",
					},
				},
				Origin: testOrigin,
			},
		},
		{
			name: "web lead: blank first name dropped",
			in:   "web_lead.json",
			want: event.Event{
				EventID:    "lead-20250314-0007",
				EventName:  event.NameLead,
				EventTime:  utc("2025-03-14T16:30:00Z"),
				ReceivedAt: testReceived,
				Source:     event.SourceWeb,
				User:       event.User{Email: "lead@example.org", ExternalID: "hs-99012"},
				Consent:    &event.Consent{AdUserData: "denied", AdPersonalization: "denied", TCFString: "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"},
				Context: event.Context{
					UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
					PageURL:   "https://www.example.com/demo?li_fat_id=8f1c2b3a-linkedin",
					ClickIDs:  event.ClickIDs{LiFatID: "8f1c2b3a-linkedin"},
				},
				Origin: testOrigin,
			},
		},
		{
			name: "app sign up",
			in:   "app_sign_up.json",
			want: event.Event{
				EventID:    "app-evt-5f2d9c",
				EventName:  event.NameSignUp,
				EventTime:  utc("2025-03-14T22:15:03Z"),
				ReceivedAt: testReceived,
				Source:     event.SourceApp,
				User:       event.User{Email: "new.user@example.net", UserID: "u-77120", Gender: "f", DateOfBirth: "1990-07-21"},
				Consent:    &event.Consent{AdUserData: "granted", AdPersonalization: "denied", Analytics: "granted"},
				Context: event.Context{
					IP:        "198.51.100.7",
					UserAgent: "ExampleApp/4.2.0 (iPhone; iOS 17.4; Scale/3.00)",
					App:       &event.App{Name: "Example Shop", Version: "4.2.0", Namespace: "com.example.shop"},
				},
				Origin: testOrigin,
			},
		},
		{
			name: "crm closed deal",
			in:   "crm_closed_deal.json",
			want: event.Event{
				EventID:    "sf-opp-0065g00000XyZ-won",
				EventName:  event.NameClosedDeal,
				EventTime:  utc("2025-03-10T17:45:00Z"),
				ReceivedAt: testReceived,
				Source:     event.SourceCRM,
				User: event.User{
					Email: "buyer@acme-corp.example", Phone: "+44 20 7946 0958",
					FirstName: "Ada", LastName: "Lovelace", ExternalID: "0035g00000AbCdE",
					Address: &event.Address{Street: "1 Example Street", City: "London", Zip: "EC1A 1BB", Country: "GB"},
				},
				Context:    event.Context{ClickIDs: event.ClickIDs{Gclid: "Cj0KCQjw-crm-captured"}},
				Properties: event.Properties{Value: f64(48000), Currency: "GBP", OrderID: "0065g00000XyZ"},
				Origin:     testOrigin,
			},
		},
		{
			name: "crm qualified lead",
			in:   "crm_qualified_lead.json",
			want: event.Event{
				EventID:    "hs-deal-88120-mql",
				EventName:  event.NameQualifiedLead,
				EventTime:  utc("2025-03-12T08:00:00Z"),
				ReceivedAt: testReceived,
				Source:     event.SourceCRM,
				User:       event.User{Phone: "+49 30 901820", ExternalID: "hs-88120"},
				Properties: event.Properties{Value: f64(500), Currency: "EUR"},
				Origin:     testOrigin,
			},
		},
		{
			name: "segment order completed",
			in:   "segment_order_completed.json",
			want: event.Event{
				EventID:    "ajs-next-1710425366535-4f0a4d9e",
				EventName:  event.NamePurchase,
				EventTime:  utc("2025-03-14T15:09:26.535Z"),
				ReceivedAt: testReceived,
				Source:     event.SourceWeb,
				User: event.User{
					UserID: "cust-48213", AnonymousID: "a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
					Email: "jane.doe@example.com", FirstName: "Jane", LastName: "Doe",
					Address: &event.Address{City: "Berlin", Zip: "10115", Country: "DE"},
				},
				Context: event.Context{
					IP:        "203.0.113.42",
					UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0 Safari/537.36",
					PageURL:   "https://shop.example.com/thank-you?ttclid=TtC1id_Case&ScCid=SnapCase-1",
					Referrer:  "https://www.tiktok.com/",
					ClickIDs:  event.ClickIDs{Ttclid: "TtC1id_Case", ScCid: "SnapCase-1"},
				},
				Properties: event.Properties{
					Value:    f64(25), // revenue wins over total
					Currency: "EUR",
					OrderID:  "50314b8e9bcf000000000000",
					Contents: []event.Content{
						{ID: "507f1f77bcf86cd799439011", Quantity: 1, ItemPrice: f64(19)},
						{ID: "46493-32", Quantity: 2, ItemPrice: f64(3)},
					},
				},
				Origin: testOrigin,
			},
		},
		{
			name: "segment identify",
			in:   "segment_identify.json",
			want: event.Event{
				EventID:    "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
				EventName:  event.NameIdentify,
				EventTime:  utc("2025-03-14T08:00:00Z"),
				ReceivedAt: testReceived,
				Source:     event.SourceWeb,
				User: event.User{
					UserID: "97980cfea0067", Email: "peter@example.com", Phone: "555-555-5555",
					FirstName: "Peter", LastName: "Gibbons", Gender: "male", DateOfBirth: "1985-02-19",
					Address: &event.Address{Street: "6th St", City: "San Francisco", State: "CA", Zip: "94103", Country: "USA"},
				},
				Context: event.Context{IP: "24.5.68.47"},
				Origin:  testOrigin,
			},
		},
		{
			name: "segment page",
			in:   "segment_page.json",
			want: event.Event{
				EventID:    "ajs-page-0f3e2a",
				EventName:  event.NamePageView,
				EventTime:  utc("2025-03-14T12:00:00Z"),
				ReceivedAt: testReceived,
				Source:     event.SourceWeb,
				User:       event.User{AnonymousID: "507f191e810c19729de860ea"},
				Context: event.Context{
					IP:        "198.51.100.23",
					UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/124.0",
					PageURL:   "https://www.example.com/?msclkid=MsC1kID&rdt_cid=RdT_1",
					Referrer:  "https://www.bing.com/",
					ClickIDs:  event.ClickIDs{Msclkid: "MsC1kID", RdtCid: "RdT_1"},
				},
				Origin: testOrigin,
			},
		},
		{
			name: "segment track from an app",
			in:   "segment_product_added_app.json",
			want: event.Event{
				EventID:    "ios-7a1c0d5e-0b9f-4e3e-9f5a-1d2c3b4a5f60",
				EventName:  event.NameAddToCart,
				EventTime:  utc("2025-03-14T18:30:00Z"),
				ReceivedAt: testReceived,
				Source:     event.SourceApp,
				User:       event.User{AnonymousID: "6F9619FF-8B86-D011-B42D-00C04FC964FF", Phone: "+1 415 555 0199"},
				Context: event.Context{
					IP:  "192.0.2.10",
					App: &event.App{Name: "Example Shop", Version: "4.2.0", Namespace: "com.example.shop"},
				},
				Properties: event.Properties{
					Value: f64(12.99), Currency: "CAD",
					Contents: []event.Content{{ID: "P-9", Quantity: 1, ItemPrice: f64(12.99)}},
				},
				Origin: testOrigin,
			},
		},
		{
			name: "segment screen",
			in:   "segment_screen.json",
			want: event.Event{
				EventID:    "android-screen-5d1e",
				EventName:  event.NamePageView,
				EventTime:  utc("2025-03-14T18:31:00Z"),
				ReceivedAt: testReceived,
				Source:     event.SourceApp,
				User:       event.User{UserID: "u-77120"},
				Context:    event.Context{App: &event.App{Name: "Example Shop", Version: "4.2.0", Namespace: "com.example.shop"}},
				Origin:     testOrigin,
			},
		},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.in] = true
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := d.Decode(example(t, tt.in), testOrigin, testReceived)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			sameEvent(t, got, tt.want)
		})
	}
	// Every shipped example must have its expected event here.
	all, _ := fs.Glob(schemas.FS, "examples/*.json")
	for _, p := range all {
		if !covered[strings.TrimPrefix(p, "examples/")] {
			t.Errorf("example %s has no case in TestDecodeExamples", p)
		}
	}
}

func TestDecodeFailures(t *testing.T) {
	t.Parallel()
	d := testDecoder(t)
	web := string(example(t, "web_purchase.json"))
	// set replaces the first occurrence of old in the web purchase example.
	set := func(old, new string) string {
		if !strings.Contains(web, old) {
			panic("example lacks " + old)
		}
		return strings.Replace(web, old, new, 1)
	}
	tests := []struct {
		name       string
		in         string
		wantReason Reason
		wantPath   string
	}{
		{"empty", "", ReasonMalformedJSON, ""},
		{"truncated", web[:200], ReasonMalformedJSON, ""},
		{"not JSON", "event_id=1&name=purchase", ReasonMalformedJSON, ""},
		{"two values", web + web, ReasonMalformedJSON, ""},
		{"trailing garbage", web + "x", ReasonMalformedJSON, ""},
		{"array", `[` + web + `]`, ReasonSchemaViolation, ""},
		{"string", `"purchase"`, ReasonSchemaViolation, ""},
		{"no source", `{"event_id":"e"}`, ReasonSchemaViolation, "/source"},
		{"unknown source", set(`"source": "web"`, `"source": "email"`), ReasonSchemaViolation, "/source"},
		{"missing event_id", set(`"event_id": "7c1e9b52-4f0a-4d9e-9a51-2f6f3b0c8d11",`, ""), ReasonSchemaViolation, "/event_id"},
		{"empty event_id", set(`"7c1e9b52-4f0a-4d9e-9a51-2f6f3b0c8d11"`, `""`), ReasonSchemaViolation, "/event_id"},
		{"email not a string", set(`"  Jane.Doe@Example.com "`, `["a"]`), ReasonSchemaViolation, "/user/email"},
		{"event_time without offset", set(`"2025-03-14T15:09:26.535+01:00"`, `"2025-03-14 15:09:26"`), ReasonSchemaViolation, "/event_time"},
		{"web without page_url", set(`"page_url"`, `"landing_url"`), ReasonSchemaViolation, "/context/page_url"},
		{"unknown top-level field", set(`"source": "web",`, `"source": "web", "userId": "u",`), ReasonSchemaViolation, "/userId"},
		{"negative value", set(`"value": 129.9`, `"value": -1`), ReasonSchemaViolation, "/properties/value"},
		{"content without id", set(`{ "id": "SKU-2002",`, `{`), ReasonSchemaViolation, "/properties/contents/1/id"},
		{"crm without identity", string(testdata(t, "crm_no_identity.json")), ReasonSchemaViolation, "/user"},
		{"segment group call", `{"type":"group","messageId":"m","groupId":"g"}`, ReasonSchemaViolation, "/type"},
		{"segment track without ids", string(testdata(t, "segment_track_no_ids.json")), ReasonSchemaViolation, ""},
		{"unknown event name", set(`"Purchase"`, `"Purchased Something"`), ReasonUnknownEvent, "/event_name"},
		{"unicode event name", set(`"Purchase"`, `"Pürchase"`), ReasonUnknownEvent, "/event_name"},
		{"segment unknown event", `{"type":"track","event":"Coupon Applied","messageId":"m","userId":"u","timestamp":"2025-03-14T00:00:00Z"}`, ReasonUnknownEvent, "/event"},
		{"currency not ISO", set(`"usd"`, `"usx"`), ReasonInvalidValue, "/properties/currency"},
		{"currency precious metal", set(`"usd"`, `"XAU"`), ReasonInvalidValue, "/properties/currency"},
		{"segment currency not ISO", `{"type":"track","event":"Order Completed","messageId":"m","userId":"u","timestamp":"2025-03-14T00:00:00Z","properties":{"currency":"ABC"}}`, ReasonInvalidValue, "/properties/currency"},
		{"value out of float range", set(`"value": 129.9`, `"value": 1e400`), ReasonInvalidValue, "/properties/value"},
		{"leap second", set(`"2025-03-14T15:09:26.535+01:00"`, `"2016-12-31T23:59:60Z"`), ReasonInvalidValue, "/event_time"},
		{"event time in the future", set(`"2025-03-14T15:09:26.535+01:00"`, `"2025-03-15T00:10:01Z"`), ReasonInvalidValue, "/event_time"},
		{"segment time in the future", `{"type":"page","messageId":"m","anonymousId":"a","originalTimestamp":"2025-03-16T00:00:00Z"}`, ReasonInvalidValue, "/originalTimestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := d.Decode([]byte(tt.in), testOrigin, testReceived)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode = %+v, %v; want a *DecodeError", ev, err)
			}
			if de.Reason != tt.wantReason || de.Path != tt.wantPath {
				t.Errorf("Decode error = %q at %q (%s), want %q at %q", de.Reason, de.Path, de.Detail, tt.wantReason, tt.wantPath)
			}
			if de.Detail == "" {
				t.Errorf("Decode error has no detail")
			}
			if !reflect.DeepEqual(ev, event.Event{}) {
				t.Errorf("Decode returned a partial event with its error: %+v", ev)
			}
		})
	}
}

func TestDecodeOversized(t *testing.T) {
	t.Parallel()
	validatorOnce.Do(func() { validator, validatorErr = schema.New() })
	if validatorErr != nil {
		t.Fatal(validatorErr)
	}
	raw := example(t, "web_purchase.json")
	tests := []struct {
		name    string
		limit   int
		in      []byte
		wantErr bool
	}{
		{"at the limit", len(raw), raw, false},
		{"one byte over", len(raw) - 1, raw, true},
		{"default limit, 1 MiB + 1", 0, append(bytes.Repeat([]byte(" "), DefaultMaxRecordBytes+1-len(raw)), raw...), true},
		{"default limit, exactly 1 MiB", 0, append(bytes.Repeat([]byte(" "), DefaultMaxRecordBytes-len(raw)), raw...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := NewDecoder(validator, DecodeOptions{MaxRecordBytes: tt.limit})
			_, err := d.Decode(tt.in, testOrigin, testReceived)
			var de *DecodeError
			if tt.wantErr {
				if !errors.As(err, &de) || de.Reason != ReasonOversized {
					t.Fatalf("Decode = %v, want oversized", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
		})
	}
}

func TestDecodeFutureSkewOption(t *testing.T) {
	t.Parallel()
	validatorOnce.Do(func() { validator, validatorErr = schema.New() })
	if validatorErr != nil {
		t.Fatal(validatorErr)
	}
	raw := example(t, "web_page_view.json") // event time 2025-03-14T14:00:00Z
	tests := []struct {
		name     string
		skew     time.Duration
		received time.Time
		wantErr  bool
	}{
		{"default, 9m59s early", 0, utc("2025-03-14T13:50:01Z"), false},
		{"default, 10m early", 0, utc("2025-03-14T13:50:00Z"), false},
		{"default, 10m01s early", 0, utc("2025-03-14T13:49:59Z"), true},
		{"1h allowed", time.Hour, utc("2025-03-14T13:30:00Z"), false},
		{"received in another zone", 0, utc("2025-03-14T14:00:00Z").In(time.FixedZone("X", -7*3600)), false},
		{"zero receipt skips the check", 0, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := NewDecoder(validator, DecodeOptions{MaxFutureSkew: tt.skew})
			ev, err := d.Decode(raw, testOrigin, tt.received)
			if tt.wantErr {
				var de *DecodeError
				if !errors.As(err, &de) || de.Reason != ReasonInvalidValue || de.Path != "/event_time" {
					t.Fatalf("Decode = %v, want invalid_value at /event_time", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !ev.ReceivedAt.Equal(tt.received) || (!tt.received.IsZero() && ev.ReceivedAt.Location() != time.UTC) {
				t.Errorf("ReceivedAt = %v, want %v in UTC", ev.ReceivedAt, tt.received)
			}
		})
	}
}

// TestDecodeErrorsCarryNoPersonalData feeds records whose personal data is
// at fault and checks the error never repeats it.
func TestDecodeErrorsCarryNoPersonalData(t *testing.T) {
	t.Parallel()
	d := testDecoder(t)
	const pii = "jane.secret@example.com"
	web := string(example(t, "web_purchase.json"))
	records := []string{
		strings.Replace(web, `"+1 (415) 555-0134"`, `"`+strings.Repeat(pii, 10)+`"`, 1),
		strings.Replace(web, `"Purchase"`, `"`+pii+`"`, 1),
		strings.Replace(web, `"usd"`, `"`+pii+`"`, 1),
		strings.Replace(web, `"2025-03-14T15:09:26.535+01:00"`, `"`+pii+`"`, 1),
		strings.Replace(web, `"granted"`, `"`+pii+`"`, 1),
		strings.Replace(web, `"schema"`, `"`+pii+`"`, 1),
		strings.Replace(web, `"Jane"`, `"`+pii+`"x`, 1),
		`{"type":"track","event":"` + pii + `","messageId":"m","userId":"u","timestamp":"2025-03-14T00:00:00Z"}`,
		`{"source":"` + pii + `"}`,
		pii,
	}
	for _, r := range records {
		_, err := d.Decode([]byte(r), testOrigin, testReceived)
		if err == nil {
			t.Fatalf("Decode accepted %s", r)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error repeats personal data: %v", err)
		}
	}
}

func TestDecodeConsent(t *testing.T) {
	t.Parallel()
	d := testDecoder(t)
	base := `{"event_id":"e","event_name":"qualified_lead","event_time":"2025-03-14T00:00:00Z","source":"crm","user":{"external_id":"x"}`
	tests := []struct {
		name string
		in   string
		want *event.Consent
	}{
		{"absent", base + `}`, nil},
		{"empty object is unknown", base + `,"consent":{}}`, nil},
		{"one signal", base + `,"consent":{"ad_user_data":"denied"}}`, &event.Consent{AdUserData: "denied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := d.Decode([]byte(tt.in), testOrigin, testReceived)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev.Consent, tt.want) {
				t.Errorf("Consent = %+v, want %+v", ev.Consent, tt.want)
			}
		})
	}
}

func TestDecodeSegmentMapping(t *testing.T) {
	t.Parallel()
	d := testDecoder(t)
	track := func(props, ctx string) string {
		return `{"type":"track","event":"Order Completed","messageId":"m-1","userId":"u-1",` +
			`"timestamp":"2025-03-14T10:00:00+02:00","originalTimestamp":"2025-03-14T07:00:00Z",` +
			`"context":{` + ctx + `},"properties":{` + props + `}}`
	}
	tests := []struct {
		name string
		in   string
		want func(ev event.Event) bool
	}{
		{"timestamp preferred over originalTimestamp", track(``, ``),
			func(ev event.Event) bool { return ev.EventTime.Equal(utc("2025-03-14T08:00:00Z")) }},
		{"originalTimestamp when no timestamp", `{"type":"identify","messageId":"m","anonymousId":"a","originalTimestamp":"2025-03-14T07:00:00Z"}`,
			func(ev event.Event) bool {
				return ev.EventTime.Equal(utc("2025-03-14T07:00:00Z")) && ev.EventName == event.NameIdentify && ev.User.AnonymousID == "a"
			}},
		{"total when no revenue", track(`"total":10,"value":3`, ``),
			func(ev event.Event) bool { return ev.Properties.Value != nil && *ev.Properties.Value == 10 }},
		{"value when no revenue or total", track(`"value":3`, ``),
			func(ev event.Event) bool { return ev.Properties.Value != nil && *ev.Properties.Value == 3 }},
		{"orderId", track(`"orderId":"o-2"`, ``),
			func(ev event.Event) bool { return ev.Properties.OrderID == "o-2" }},
		{"order_id wins over orderId", track(`"order_id":"o-1","orderId":"o-2"`, ``),
			func(ev event.Event) bool { return ev.Properties.OrderID == "o-1" }},
		{"product ids: product_id, productId, sku, id", track(`"products":[{"sku":"s","id":"i"},{"productId":"p","sku":"s"},{"id":"i"},{"name":"no id"}]`, ``),
			func(ev event.Event) bool {
				c := ev.Properties.Contents
				return len(c) == 3 && c[0].ID == "s" && c[1].ID == "p" && c[2].ID == "i"
			}},
		{"products with no ids leave no contents", track(`"products":[{"name":"x"}]`, ``),
			func(ev event.Event) bool { return ev.Properties.Contents == nil }},
		{"lower-case currency", track(`"currency":"jpy"`, ``),
			func(ev event.Event) bool { return ev.Properties.Currency == "JPY" }},
		{"context fields", track(``, `"ip":"192.0.2.1","userAgent":"UA/1","page":{"url":"https://x.example/p?fbclid=AbC_dEf","referrer":"https://r.example/"}`),
			func(ev event.Event) bool {
				c := ev.Context
				return c.IP == "192.0.2.1" && c.UserAgent == "UA/1" && c.PageURL == "https://x.example/p?fbclid=AbC_dEf" &&
					c.Referrer == "https://r.example/" && c.ClickIDs.Fbclid == "AbC_dEf" && ev.Source == event.SourceWeb
			}},
		{"context.app makes it an app event", track(``, `"app":{"name":"A","version":"1.0","build":"7"}`),
			func(ev event.Event) bool {
				return ev.Source == event.SourceApp && ev.Context.App != nil && *ev.Context.App == event.App{Name: "A", Version: "1.0"}
			}},
		{"context.traits trimmed; blank ones dropped", track(``, `"traits":{"email":" a@b.example ","phone":" ","lastName":"Ö"}`),
			func(ev event.Event) bool {
				return ev.User.Email == "a@b.example" && ev.User.Phone == "" && ev.User.LastName == "Ö"
			}},
		{"identify: top-level traits win over context.traits", `{"type":"identify","messageId":"m","userId":"u","timestamp":"2025-03-14T07:00:00Z",` +
			`"traits":{"email":"top@x.example","phone":" "},"context":{"traits":{"email":"ctx@x.example","phone":"+1 555","address":{"postalCode":"12345"}}}}`,
			func(ev event.Event) bool {
				return ev.User.Email == "top@x.example" && ev.User.Phone == "+1 555" && ev.User.Address != nil && ev.User.Address.Zip == "12345"
			}},
		{"page: URL from properties when context has none", `{"type":"page","messageId":"m","userId":"u","timestamp":"2025-03-14T07:00:00Z",` +
			`"properties":{"url":"https://x.example/?gclid=G1","referrer":"https://g.example/"}}`,
			func(ev event.Event) bool {
				return ev.EventName == event.NamePageView && ev.Context.PageURL == "https://x.example/?gclid=G1" &&
					ev.Context.Referrer == "https://g.example/" && ev.Context.ClickIDs.Gclid == "G1"
			}},
		{"null userId with anonymousId", `{"type":"track","event":"Signed Up","messageId":"m","userId":null,"anonymousId":"a","timestamp":"2025-03-14T07:00:00Z"}`,
			func(ev event.Event) bool {
				return ev.User.UserID == "" && ev.User.AnonymousID == "a" && ev.EventName == event.NameSignUp
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := d.Decode([]byte(tt.in), testOrigin, testReceived)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !tt.want(ev) {
				g, _ := json.MarshalIndent(ev, "", "  ")
				t.Errorf("unexpected event:\n%s", g)
			}
		})
	}
}

func TestDecodeConcurrent(t *testing.T) {
	t.Parallel()
	d := testDecoder(t)
	raws := [][]byte{example(t, "web_purchase.json"), example(t, "segment_order_completed.json"), []byte(`{`)}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				raw := raws[(i+j)%len(raws)]
				_, err := d.Decode(raw, testOrigin, testReceived)
				if wantErr := len(raw) == 1; (err != nil) != wantErr {
					t.Errorf("Decode(%.20s…) = %v", raw, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
