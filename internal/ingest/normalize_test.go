package ingest

import (
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

func TestNormalizeEventNameAliases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string // "" means unknown
	}{
		{"canonical purchase", "purchase", event.NamePurchase},
		{"meta Purchase", "Purchase", event.NamePurchase},
		{"segment Order Completed", "Order Completed", event.NamePurchase},
		{"snake order_completed", "order_completed", event.NamePurchase},
		{"tiktok CompletePayment", "CompletePayment", event.NamePurchase},
		{"upper PURCHASE", "PURCHASE", event.NamePurchase},
		{"meta Lead", "Lead", event.NameLead},
		{"Generate Lead", "Generate Lead", event.NameLead},
		{"ga4 generate_lead", "generate_lead", event.NameLead},
		{"tiktok SubmitForm", "SubmitForm", event.NameLead},
		{"Sign Up", "Sign Up", event.NameSignUp},
		{"segment Signed Up", "Signed Up", event.NameSignUp},
		{"meta CompleteRegistration", "CompleteRegistration", event.NameSignUp},
		{"sign_up", "sign_up", event.NameSignUp},
		{"complete_registration", "complete_registration", event.NameSignUp},
		{"snap SIGN_UP", "SIGN_UP", event.NameSignUp},
		{"Page View", "Page View", event.NamePageView},
		{"meta PageView", "PageView", event.NamePageView},
		{"page_view", "page_view", event.NamePageView},
		{"segment Product Viewed", "Product Viewed", event.NameViewContent},
		{"meta ViewContent", "ViewContent", event.NameViewContent},
		{"ga4 view_item", "view_item", event.NameViewContent},
		{"segment Product Added", "Product Added", event.NameAddToCart},
		{"meta AddToCart", "AddToCart", event.NameAddToCart},
		{"snap ADD_CART", "ADD_CART", event.NameAddToCart},
		{"segment Checkout Started", "Checkout Started", event.NameCheckout},
		{"meta InitiateCheckout", "InitiateCheckout", event.NameCheckout},
		{"begin_checkout", "begin_checkout", event.NameCheckout},
		{"qualified_lead", "qualified_lead", event.NameQualifiedLead},
		{"Lead Qualified", "Lead Qualified", event.NameQualifiedLead},
		{"MQL", "MQL", event.NameQualifiedLead},
		{"SQL", "SQL", event.NameQualifiedLead},
		{"closed_deal", "closed_deal", event.NameClosedDeal},
		{"Deal Won", "Deal Won", event.NameClosedDeal},
		{"Closed Won", "Closed Won", event.NameClosedDeal},
		{"identify", "identify", event.NameIdentify},
		{"hyphens and odd spacing", "  order-Completed ", event.NamePurchase},
		{"unknown", "Coupon Applied", ""},
		{"Closed Lost is not a deal", "Closed Lost", ""},
		{"empty", "", ""},
		{"only separators", " _-", ""},
		{"non-ASCII look-alike", "Purсhase", ""}, // Cyrillic с
		{"long name", "purchase purchase purchase purchase purchase purchase", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := canonicalEventName(tt.in)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("canonicalEventName(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestNormalizeEventNameNoAllocs(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := canonicalEventName("Order Completed"); !ok {
			t.Fatal("alias not found")
		}
	})
	if allocs != 0 {
		t.Errorf("canonicalEventName allocates %v times, want 0", allocs)
	}
}

func TestNormalizeCurrency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string // "" means rejected
	}{
		{"upper", "USD", "USD"},
		{"lower", "eur", "EUR"},
		{"mixed", "gBp", "GBP"},
		{"yen", "JPY", "JPY"},
		{"new Caribbean guilder", "XCG", "XCG"},
		{"recently withdrawn kuna still accepted", "HRK", "HRK"},
		{"CFA franc", "xof", "XOF"},
		{"not assigned", "ABC", ""},
		{"gold", "XAU", ""},
		{"test code", "XTS", ""},
		{"no currency", "XXX", ""},
		{"fund code", "CLF", ""},
		{"long withdrawn", "DEM", ""},
		{"too short", "US", ""},
		{"too long", "USDT", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := normalizeCurrency(tt.in)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("normalizeCurrency(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestNormalizeCurrencyListIsWellFormed(t *testing.T) {
	t.Parallel()
	if n := len(isoCurrencies); n < 150 || n > 190 {
		t.Errorf("isoCurrencies has %d codes; ISO 4217 has about 160 active currencies", n)
	}
	for code := range isoCurrencies {
		if len(code) != 3 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' || code[2] < 'A' || code[2] > 'Z' {
			t.Errorf("malformed code %q", code)
		}
	}
}

func TestNormalizeClickIDsFromURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		url      string
		explicit event.ClickIDs
		want     event.ClickIDs
	}{
		{"no query", "https://x.example/p", event.ClickIDs{}, event.ClickIDs{}},
		{"fbclid case preserved", "https://x.example/?fbclid=IwAR0aBcD_eFgH-iJ", event.ClickIDs{},
			event.ClickIDs{Fbclid: "IwAR0aBcD_eFgH-iJ"}},
		{"every id", "https://x.example/?gclid=G&gbraid=GB&wbraid=WB&fbclid=F&ttclid=T&ScCid=S&epik=E&rdt_cid=R&li_fat_id=L&msclkid=M",
			event.ClickIDs{},
			event.ClickIDs{Gclid: "G", Gbraid: "GB", Wbraid: "WB", Fbclid: "F", Ttclid: "T", ScCid: "S", Epik: "E", RdtCid: "R", LiFatID: "L", Msclkid: "M"}},
		{"lower-case sccid", "https://x.example/?sccid=snap-1", event.ClickIDs{}, event.ClickIDs{ScCid: "snap-1"}},
		{"explicit wins", "https://x.example/?gclid=FromURL&fbclid=F", event.ClickIDs{Gclid: "Explicit"},
			event.ClickIDs{Gclid: "Explicit", Fbclid: "F"}},
		{"first non-empty occurrence", "https://x.example/?gclid=&gclid=one&gclid=two", event.ClickIDs{},
			event.ClickIDs{Gclid: "one"}},
		{"percent-decoded", "https://x.example/?epik=dj0yJnU9%3D%3D&ttclid=a%2Bb", event.ClickIDs{},
			event.ClickIDs{Epik: "dj0yJnU9==", Ttclid: "a+b"}},
		{"bad escape skipped", "https://x.example/?gclid=%zz&fbclid=ok", event.ClickIDs{}, event.ClickIDs{Fbclid: "ok"}},
		{"fragment ignored", "https://x.example/?a=1#gclid=InFragment", event.ClickIDs{}, event.ClickIDs{}},
		{"query ends at fragment", "https://x.example/?msclkid=M1#x", event.ClickIDs{}, event.ClickIDs{Msclkid: "M1"}},
		{"parameter names are case-sensitive", "https://x.example/?GCLID=G&FbClid=F", event.ClickIDs{}, event.ClickIDs{}},
		{"similar names ignored", "https://x.example/?gclid_x=G&xfbclid=F&utm_source=gclid", event.ClickIDs{}, event.ClickIDs{}},
		{"key without value", "https://x.example/?gclid&fbclid=", event.ClickIDs{}, event.ClickIDs{}},
		{"not a URL but has a query", "/landing?li_fat_id=L1", event.ClickIDs{}, event.ClickIDs{LiFatID: "L1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.explicit
			fillClickIDsFromURL(&got, tt.url)
			if got != tt.want {
				t.Errorf("fillClickIDsFromURL(%q) = %+v, want %+v", tt.url, got, tt.want)
			}
		})
	}
}

func TestNormalizeEventTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want time.Time // zero means rejected
	}{
		{"Z", "2025-03-14T15:09:26Z", time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)},
		{"offset to UTC", "2025-03-14T15:09:26.5+01:00", time.Date(2025, 3, 14, 14, 9, 26, 500_000_000, time.UTC)},
		{"negative offset crosses midnight", "2025-03-14T22:00:00-05:00", time.Date(2025, 3, 15, 3, 0, 0, 0, time.UTC)},
		{"lower-case t and z (RFC 3339 allows them)", "2025-03-14t15:09:26z", time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)},
		{"nanoseconds kept", "2025-03-14T15:09:26.123456789Z", time.Date(2025, 3, 14, 15, 9, 26, 123456789, time.UTC)},
		{"leap second", "2016-12-31T23:59:60Z", time.Time{}},
		{"no offset", "2025-03-14T15:09:26", time.Time{}},
		{"date only", "2025-03-14", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseEventTime(tt.in)
			if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
				t.Fatalf("parseEventTime(%q) = %v, %v; want %v", tt.in, got, ok, tt.want)
			}
			if ok && got.Location() != time.UTC {
				t.Errorf("parseEventTime(%q) is in %v, want UTC", tt.in, got.Location())
			}
		})
	}
}

func TestNormalizeUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   event.User
		want event.User
	}{
		{"trims", event.User{Email: " a@b.example\t", Phone: "\n+1 555 ", FirstName: " Ann", UserID: " u1 "},
			event.User{Email: "a@b.example", Phone: "+1 555", FirstName: "Ann", UserID: "u1"}},
		{"blank fields dropped", event.User{LastName: "   ", Gender: "\t", ExternalID: "x"},
			event.User{ExternalID: "x"}},
		{"blank address dropped", event.User{Email: "e", Address: &event.Address{City: " ", Zip: ""}},
			event.User{Email: "e"}},
		{"address trimmed", event.User{Address: &event.Address{City: " Paris ", Country: "FR "}},
			event.User{Address: &event.Address{City: "Paris", Country: "FR"}}},
		{"case kept", event.User{Email: "Jane.Doe@Example.com"}, event.User{Email: "Jane.Doe@Example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.in
			normalizeUser(&got)
			if got.Address != nil && tt.want.Address != nil {
				if *got.Address != *tt.want.Address {
					t.Errorf("Address = %+v, want %+v", *got.Address, *tt.want.Address)
				}
				got.Address, tt.want.Address = nil, nil
			}
			if got != tt.want {
				t.Errorf("normalizeUser = %+v, want %+v", got, tt.want)
			}
		})
	}
}
