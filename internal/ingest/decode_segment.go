package ingest

import (
	"strconv"
	"strings"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/schema"
)

// mapSegment fills ev from a Segment-spec call (https://segment.com/docs/connections/spec/)
// that passed the named schema. It returns the JSON pointer of the time it
// used. Segment's consent (context.consent.categoryPreferences) is kept as
// the event's ConsentCategories only: its categories are workspace-specific
// and do not map onto ad_user_data / ad_personalization without
// per-customer configuration.
func mapSegment(ev *event.Event, o map[string]any, schemaName string) (string, error) {
	ev.EventID = str(o, "messageId")

	// timestamp is Segment's clock-skew-corrected time; originalTimestamp is
	// the device's own, used only when the message has not passed through
	// Segment's servers.
	timePath := "/timestamp"
	ts := str(o, "timestamp")
	if ts == "" {
		timePath, ts = "/originalTimestamp", str(o, "originalTimestamp")
	}

	switch schemaName {
	case schema.SegmentIdentify:
		ev.EventName = event.NameIdentify
	case schema.SegmentPage, schema.SegmentScreen:
		ev.EventName = event.NamePageView
	default:
		name, ok := canonicalEventName(str(o, "event"))
		if !ok {
			return timePath, unknownEvent("/event")
		}
		ev.EventName = name
	}
	t, ok := parseEventTime(ts)
	if !ok {
		return timePath, badTime(timePath)
	}
	ev.EventTime = t

	ev.User.UserID = str(o, "userId")
	ev.User.AnonymousID = str(o, "anonymousId")
	ctx := obj(o, "context")
	// identify carries traits at the top level; other calls in
	// context.traits. Top-level traits win field by field.
	segmentTraits(&ev.User, obj(o, "traits"))
	segmentTraits(&ev.User, obj(ctx, "traits"))

	props := obj(o, "properties")
	ev.Context.IP = str(ctx, "ip")
	ev.Context.UserAgent = str(ctx, "userAgent")
	page := obj(ctx, "page")
	ev.Context.PageURL = str(page, "url")
	ev.Context.Referrer = str(page, "referrer")
	if schemaName == schema.SegmentPage {
		// A page call repeats its URL in properties; analytics.js fills both,
		// server-side libraries often only this one.
		if ev.Context.PageURL == "" {
			ev.Context.PageURL = str(props, "url")
		}
		if ev.Context.Referrer == "" {
			ev.Context.Referrer = str(props, "referrer")
		}
	}
	ev.Source = event.SourceWeb
	ev.ConsentCategories = boolMap(obj(obj(ctx, "consent"), "categoryPreferences"))
	if app := obj(ctx, "app"); app != nil {
		ev.Source = event.SourceApp
		ev.Context.App = &event.App{Name: str(app, "name"), Version: str(app, "version"), Namespace: str(app, "namespace")}
	}

	if props == nil {
		return timePath, nil
	}
	p := &ev.Properties
	for _, k := range [...]string{"revenue", "total", "value"} {
		if v, present := props[k]; present {
			f, ok := number(v)
			if !ok {
				return timePath, badNumber("/properties/" + k)
			}
			p.Value = &f
			break
		}
	}
	if err := setCurrency(p, props, "/properties/currency"); err != nil {
		return timePath, err
	}
	p.OrderID = str(props, "order_id")
	if p.OrderID == "" {
		p.OrderID = str(props, "orderId")
	}
	if items, ok := props["products"].([]any); ok && len(items) > 0 {
		p.Contents = make([]event.Content, 0, len(items))
		for i, it := range items {
			item, _ := it.(map[string]any)
			c := event.Content{ID: firstString(item, "product_id", "productId", "sku", "id")}
			if c.ID == "" {
				// A line with no id cannot be matched to a catalog; the
				// conversion's value still stands without it.
				continue
			}
			if q, present := item["quantity"]; present {
				n, ok := integer(q)
				if !ok {
					return timePath, badNumber("/properties/products/" + strconv.Itoa(i) + "/quantity")
				}
				c.Quantity = n
			}
			if pr, present := item["price"]; present {
				f, ok := number(pr)
				if !ok {
					return timePath, badNumber("/properties/products/" + strconv.Itoa(i) + "/price")
				}
				c.ItemPrice = &f
			}
			p.Contents = append(p.Contents, c)
		}
		if len(p.Contents) == 0 {
			p.Contents = nil
		}
	}
	return timePath, nil
}

// segmentTraits fills the fields of u that are still empty from Segment's
// reserved traits (https://segment.com/docs/connections/spec/identify/#traits).
func segmentTraits(u *event.User, t map[string]any) {
	if t == nil {
		return
	}
	fill(&u.Email, t, "email")
	fill(&u.Phone, t, "phone")
	fill(&u.FirstName, t, "firstName")
	fill(&u.LastName, t, "lastName")
	fill(&u.Gender, t, "gender")
	fill(&u.DateOfBirth, t, "birthday")
	if a := obj(t, "address"); a != nil {
		if u.Address == nil {
			u.Address = &event.Address{}
		}
		fill(&u.Address.Street, a, "street")
		fill(&u.Address.City, a, "city")
		fill(&u.Address.State, a, "state")
		fill(&u.Address.Zip, a, "postalCode")
		fill(&u.Address.Country, a, "country")
	}
}

// fill sets *dst from m[k] when *dst is empty or blank.
func fill(dst *string, m map[string]any, k string) {
	if isBlank(*dst) {
		if s := str(m, k); !isBlank(s) {
			*dst = s
		}
	}
}

// firstString returns the first of m's keys holding a non-empty string.
func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s := str(m, k); s != "" {
			return s
		}
	}
	return ""
}

// isBlank reports whether s is empty once trimmed, as normalizeUser will
// trim it.
func isBlank(s string) bool { return strings.TrimSpace(s) == "" }
