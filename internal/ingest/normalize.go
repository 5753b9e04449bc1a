package ingest

import (
	"net/url"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// eventNameAliases maps a squashed event name (see squashName) to its
// canonical name. It covers the canonical names themselves, the Segment
// e-commerce spec, Meta, TikTok, GA4 and Snapchat standard events, and the
// usual CRM stage names. A name not listed here is an unknown_event: we
// would rather send a producer's typo to the DLQ, where it is visible, than
// forward it to ad platforms as a custom event nobody optimizes for.
var eventNameAliases = map[string]string{
	// page_view
	"pageview": event.NamePageView,
	// view_content
	"viewcontent":   event.NameViewContent,
	"productviewed": event.NameViewContent,
	"viewitem":      event.NameViewContent, // GA4
	// add_to_cart
	"addtocart":    event.NameAddToCart,
	"productadded": event.NameAddToCart,
	"addcart":      event.NameAddToCart, // Snapchat ADD_CART
	// begin_checkout
	"begincheckout":    event.NameCheckout,
	"checkoutstarted":  event.NameCheckout,
	"initiatecheckout": event.NameCheckout,
	"startcheckout":    event.NameCheckout, // Snapchat START_CHECKOUT
	// sign_up
	"signup":               event.NameSignUp,
	"signedup":             event.NameSignUp,
	"completeregistration": event.NameSignUp,
	// lead
	"lead":         event.NameLead,
	"generatelead": event.NameLead,
	"submitform":   event.NameLead, // TikTok
	// purchase
	"purchase":        event.NamePurchase,
	"ordercompleted":  event.NamePurchase,
	"completepayment": event.NamePurchase, // TikTok
	// qualified_lead
	"qualifiedlead": event.NameQualifiedLead,
	"leadqualified": event.NameQualifiedLead,
	"mql":           event.NameQualifiedLead,
	"sql":           event.NameQualifiedLead,
	// closed_deal
	"closeddeal": event.NameClosedDeal,
	"dealwon":    event.NameClosedDeal,
	"closedwon":  event.NameClosedDeal,
	// identify
	"identify": event.NameIdentify,
}

// maxAliasLen bounds the names worth looking up; every alias is shorter.
const maxAliasLen = 48

// canonicalEventName maps a producer's event name to a canonical name,
// ignoring case, spaces, underscores and hyphens ("Order Completed",
// "order_completed" and "OrderCompleted" are one name). ok is false for a
// name that is not a known alias.
func canonicalEventName(name string) (canonical string, ok bool) {
	var buf [maxAliasLen]byte
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == ' ' || c == '_' || c == '-' || c == '\t':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 0x80:
			// Every alias is ASCII; no need to case-fold Unicode.
			return "", false
		}
		if n == len(buf) {
			return "", false
		}
		buf[n] = c
		n++
	}
	// The compiler does not allocate for a map index by string(bytes).
	canonical, ok = eventNameAliases[string(buf[:n])]
	return canonical, ok
}

// parseEventTime parses an RFC 3339 timestamp and returns it in UTC. RFC
// 3339 allows a lower-case "t" and "z", which time.Parse does not.
func parseEventTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if !strings.ContainsAny(s, "tz") {
			return time.Time{}, false
		}
		if t, err = time.Parse(time.RFC3339Nano, strings.ToUpper(s)); err != nil {
			return time.Time{}, false
		}
	}
	return t.UTC(), true
}

// normalizeCurrency upper-cases an ISO-4217 code. ok is false when the code
// is not in isoCurrencies.
func normalizeCurrency(s string) (string, bool) {
	if len(s) != 3 {
		return "", false
	}
	var b [3]byte
	for i := 0; i < 3; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		b[i] = c
	}
	code := string(b[:])
	if _, ok := isoCurrencies[code]; !ok {
		return "", false
	}
	return code, true
}

// clickIDField returns the field of ids that the landing-URL query
// parameter key carries, or nil. Snapchat documents ScCid; sccid is the
// lower-case form some link builders emit. Otherwise names match exactly, as
// the platforms' own tags read them.
func clickIDField(ids *event.ClickIDs, key string) *string {
	switch key {
	case "gclid":
		return &ids.Gclid
	case "gbraid":
		return &ids.Gbraid
	case "wbraid":
		return &ids.Wbraid
	case "fbclid":
		return &ids.Fbclid
	case "ttclid":
		return &ids.Ttclid
	case "ScCid", "sccid":
		return &ids.ScCid
	case "epik":
		return &ids.Epik
	case "rdt_cid":
		return &ids.RdtCid
	case "li_fat_id":
		return &ids.LiFatID
	case "msclkid":
		return &ids.Msclkid
	}
	return nil
}

// fillClickIDsFromURL sets each click id that ids lacks from the query of
// pageURL. Values are percent-decoded (as the platforms' tags read them) but
// otherwise kept byte for byte: click ids are case-sensitive. The first
// non-empty occurrence of a parameter wins. A query that cannot be decoded is
// skipped, parameter by parameter, rather than failing the event.
func fillClickIDsFromURL(ids *event.ClickIDs, pageURL string) {
	q := strings.IndexByte(pageURL, '?')
	if q < 0 {
		return
	}
	query := pageURL[q+1:]
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query = query[:h]
	}
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		key, val, ok := strings.Cut(pair, "=")
		if !ok || val == "" {
			continue
		}
		dst := clickIDField(ids, key)
		if dst == nil || *dst != "" {
			continue
		}
		if strings.ContainsAny(val, "%+") {
			v, err := url.QueryUnescape(val)
			if err != nil {
				continue
			}
			val = v
		}
		*dst = val
	}
}

// normalizeUser trims every field and leaves absent the ones that end up
// empty; an address with no field left is dropped.
func normalizeUser(u *event.User) {
	u.UserID = strings.TrimSpace(u.UserID)
	u.AnonymousID = strings.TrimSpace(u.AnonymousID)
	u.ExternalID = strings.TrimSpace(u.ExternalID)
	u.Email = strings.TrimSpace(u.Email)
	u.Phone = strings.TrimSpace(u.Phone)
	u.FirstName = strings.TrimSpace(u.FirstName)
	u.LastName = strings.TrimSpace(u.LastName)
	u.Gender = strings.TrimSpace(u.Gender)
	u.DateOfBirth = strings.TrimSpace(u.DateOfBirth)
	if a := u.Address; a != nil {
		a.Street = strings.TrimSpace(a.Street)
		a.City = strings.TrimSpace(a.City)
		a.State = strings.TrimSpace(a.State)
		a.Zip = strings.TrimSpace(a.Zip)
		a.Country = strings.TrimSpace(a.Country)
		if *a == (event.Address{}) {
			u.Address = nil
		}
	}
}
