package quality

import "strings"

// KeyKind is a family of identifiers a platform can match a conversion on.
// Platforms name their parameters differently (Meta's "em", the webhook's
// "email_sha256"); the report groups them by kind so coverage reads the same
// for every destination.
type KeyKind int

// The identifier kinds the report measures coverage for, in display order.
const (
	KeyEmail KeyKind = iota
	KeyPhone
	KeyExternalID
	KeyClickID
	KeyBrowserID // fbc / fbp and other first-party browser ids
	KeyIPUA      // IP address and user agent, both present
	KeyAddress
	numKeyKinds
)

// KeyKindNames are the kinds' names in reports and CSV columns.
var KeyKindNames = [numKeyKinds]string{"email", "phone", "external_id", "click_id", "fbc_fbp", "ip_ua", "address"}

// keyWeights drive the match-quality estimate. They are a heuristic, not a
// platform's formula: an email or phone matches a person across devices and
// is what every platform weights most; a click id ties the conversion to an
// ad click outright; external id, browser ids and IP + user agent help only
// with the platform's own earlier sightings; an address only in combination.
var keyWeights = [numKeyKinds]float64{3, 2, 1, 2, 1, 0.6, 0.4}

// clickIDKeys are the click identifiers of every platform, by the names our
// destinations' payloads use.
var clickIDKeys = map[string]bool{
	"gclid": true, "gbraid": true, "wbraid": true, "fbclid": true, "ttclid": true, "sccid": true,
	"epik": true, "rdt_cid": true, "li_fat_id": true, "msclkid": true, "click_id": true,
}

// kindsOf folds a destination's match-key names into kinds, as a bit set.
func kindsOf(keys []string) uint8 {
	var set uint8
	var ip, ua bool
	for _, k := range keys {
		k = strings.TrimPrefix(strings.TrimSuffix(strings.ToLower(k), "_sha256"), "sha256_")
		switch k {
		case "em", "email", "hashed_email":
			set |= 1 << KeyEmail
		case "ph", "phone", "phone_number", "hashed_phone":
			set |= 1 << KeyPhone
		case "external_id", "externalid", "user_id", "acxiom_id", "oracle_moat_id":
			set |= 1 << KeyExternalID
		case "linkedin_first_party_ads_tracking_uuid": // LinkedIn's li_fat_id
			set |= 1 << KeyClickID
		case "fbc", "fbp", "ttp":
			set |= 1 << KeyBrowserID
		case "client_ip_address", "clientipaddress", "ip", "ip_address":
			ip = true
		case "client_user_agent", "clientuseragent", "user_agent", "ua":
			ua = true
		case "ct", "st", "zp", "country", "city", "zip", "state", "street", "address",
			"userinfo": // LinkedIn's name, company and country
			set |= 1 << KeyAddress
		default:
			if clickIDKeys[k] {
				set |= 1 << KeyClickID
			}
		}
	}
	if ip && ua {
		set |= 1 << KeyIPUA
	}
	return set
}

// MatchQuality is the estimated match-quality score, 0–10, from the share of
// sent events carrying each kind of identifier: the coverage of each kind,
// weighted by keyWeights, over the sum of the weights. A destination sending
// every kind for every event scores 10; one sending only IP + user agent
// scores under 1. It is an estimate for spotting drift, labelled so in every
// report: the platforms compute their own scores from what they could match.
func MatchQuality(coverage [numKeyKinds]float64) float64 {
	var sum, wsum float64
	for k, w := range keyWeights {
		sum += w * coverage[k]
		wsum += w
	}
	return 10 * sum / wsum
}
