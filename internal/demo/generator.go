package demo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Kind says what a generated record is meant to exercise.
type Kind string

// Generated record kinds.
const (
	KindValid     Kind = "valid"
	KindDuplicate Kind = "duplicate"
	KindTooOld    Kind = "too_old"
	KindMalformed Kind = "malformed_json"
	KindSchema    Kind = "schema_violation"
	KindUnknown   Kind = "unknown_event"
	KindOversized Kind = "oversized"
	KindSegment   Kind = "segment"
)

// Mix is the share of each unusual kind, per record.
type Mix struct {
	Duplicate, TooOld, Malformed, Schema, Unknown, Oversized, Segment float64
}

// DefaultMix resembles a real week of traffic with a bad tag deployed.
var DefaultMix = Mix{Duplicate: 0.03, TooOld: 0.01, Malformed: 0.005, Schema: 0.01, Unknown: 0.005, Oversized: 0.0005, Segment: 0.1}

// Record is one generated input record.
type Record struct {
	Topic string
	Key   []byte
	Value []byte
	Kind  Kind
}

// Generator makes realistic web, app and CRM traffic from a seed, so a run
// can be repeated exactly.
type Generator struct {
	rng        *rand.Rand
	now        func() time.Time
	mix        Mix
	topics     Topics
	oversize   int
	seq        int64
	recent     [][]byte // recent valid values, for duplicates
	people     []person
	seedString string
}

// Topics names the input topics per source.
type Topics struct{ Web, App, CRM string }

type person struct {
	userID, anonID, email, phone, first, last, city, state, zip, country string
	fbclid, gclid, fbp                                                   string
}

// NewGenerator returns a generator. oversize is the record size that counts
// as too large (the ingest limit); oversized records exceed it.
func NewGenerator(seed uint64, now func() time.Time, topics Topics, mix Mix, oversize int) *Generator {
	g := &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x5157)), now: now, mix: mix, topics: topics, oversize: oversize, seedString: fmt.Sprintf("%x", seed)}
	for i := 0; i < 5000; i++ {
		g.people = append(g.people, g.newPerson(i))
	}
	return g
}

var (
	firstNames = []string{"Ana", "Ben", "Chloé", "Dmitri", "Emma", "Farah", "Gustav", "Hana", "Ivan", "Jonas", "Kenji", "Léa", "Mateo", "Nora", "Olivia", "Pál", "Quinn", "Rosa", "Sven", "Tariq"}
	lastNames  = []string{"Smith", "García", "Müller", "O'Brien", "Nguyen", "Kowalski", "Rossi", "Dubois", "Johnson", "Tanaka", "Silva", "Novak"}
	places     = []struct{ city, state, zip, country, phone string }{
		{"San Francisco", "CA", "94103", "US", "(415) 555-%04d"},
		{"New York", "NY", "10001-2345", "US", "+1 212 555 %04d"},
		{"Austin", "Texas", "73301", "US", "512.555.%04d"},
		{"London", "", "SW1A 1AA", "GB", "+44 20 7946 %04d"},
		{"Berlin", "", "10115", "DE", "+49 30 1234%04d"},
		{"Paris", "", "75001", "FR", "+33 1 42 68 %04d"},
	}
	domains  = []string{"gmail.com", "example.com", "yahoo.com", "outlook.com", "googlemail.com"}
	products = []struct {
		id    string
		price float64
	}{{"sku-tee", 19.99}, {"sku-hoodie", 49.5}, {"sku-cap", 15}, {"sku-jacket", 129}, {"sku-socks", 7.25}}
	userAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	}
)

func (g *Generator) newPerson(i int) person {
	f := firstNames[g.rng.IntN(len(firstNames))]
	l := lastNames[g.rng.IntN(len(lastNames))]
	pl := places[g.rng.IntN(len(places))]
	p := person{
		userID:  fmt.Sprintf("u-%s-%05d", g.seedString, i),
		anonID:  fmt.Sprintf("anon-%s-%08x", g.seedString, g.rng.Uint32()),
		first:   f,
		last:    l,
		city:    pl.city,
		state:   pl.state,
		zip:     pl.zip,
		country: pl.country,
		fbp:     fmt.Sprintf("fb.1.%d.%d", g.now().Add(-time.Duration(g.rng.IntN(90*24))*time.Hour).UnixMilli(), g.rng.Int64N(1e10)),
	}
	// Realistic mess: mixed case, stray spaces, a missing phone now and then.
	local := strings.ToLower(strings.NewReplacer("é", "e", "'", "", "á", "a", "ü", "u", "í", "i").Replace(f + "." + l))
	// Capitalized, as people type it: normalization must lowercase it.
	p.email = fmt.Sprintf(" %s%s%d@%s", strings.ToUpper(local[:1]), local[1:], i%97, domains[g.rng.IntN(len(domains))])
	if g.rng.Float64() < 0.8 {
		p.phone = fmt.Sprintf(pl.phone, g.rng.IntN(10000))
	}
	if g.rng.Float64() < 0.4 {
		p.fbclid = "IwAR" + g.token(24)
	}
	if g.rng.Float64() < 0.4 {
		p.gclid = "Cj0KCQ" + g.token(20)
	}
	return p
}

func (g *Generator) token(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// Next returns the next record.
func (g *Generator) Next() Record {
	g.seq++
	r := g.rng.Float64()
	m := g.mix
	switch {
	case r < m.Duplicate && len(g.recent) > 0:
		v := g.recent[g.rng.IntN(len(g.recent))]
		var probe struct{ Source string }
		_ = json.Unmarshal(v, &probe)
		return Record{Topic: g.topicFor(probe.Source), Value: v, Kind: KindDuplicate}
	case r < m.Duplicate+m.TooOld:
		return g.valid(KindTooOld, g.now().Add(-time.Duration(8+g.rng.IntN(20))*24*time.Hour))
	case r < m.Duplicate+m.TooOld+m.Malformed:
		v := g.valid(KindValid, g.now()).Value
		return Record{Topic: g.topics.Web, Value: v[:len(v)/2], Kind: KindMalformed}
	case r < m.Duplicate+m.TooOld+m.Malformed+m.Schema:
		return g.schemaViolation()
	case r < m.Duplicate+m.TooOld+m.Malformed+m.Schema+m.Unknown:
		rec := g.valid(KindUnknown, g.now())
		rec.Value = []byte(strings.Replace(string(rec.Value), `"event_name":"`, `"event_name":"x_custom_`, 1))
		return rec
	case r < m.Duplicate+m.TooOld+m.Malformed+m.Schema+m.Unknown+m.Oversized:
		pad := strings.Repeat("x", g.oversize+1024)
		return Record{Topic: g.topics.App, Value: []byte(`{"event_id":"big-` + fmt.Sprint(g.seq) + `","padding":"` + pad + `"}`), Kind: KindOversized}
	case r < m.Duplicate+m.TooOld+m.Malformed+m.Schema+m.Unknown+m.Oversized+m.Segment:
		return g.segment()
	}
	rec := g.valid(KindValid, g.now().Add(-time.Duration(g.rng.IntN(3600))*time.Second))
	if len(g.recent) < 256 {
		g.recent = append(g.recent, rec.Value)
	} else {
		g.recent[g.rng.IntN(len(g.recent))] = rec.Value
	}
	return rec
}

func (g *Generator) topicFor(source string) string {
	switch source {
	case "app":
		return g.topics.App
	case "crm":
		return g.topics.CRM
	}
	return g.topics.Web
}

// valid builds one of our envelope events at time t.
func (g *Generator) valid(kind Kind, t time.Time) Record {
	p := g.people[g.rng.IntN(len(g.people))]
	id := fmt.Sprintf("ev-%s-%d", g.seedString, g.seq)
	r := g.rng.Float64()
	ev := map[string]any{"schema": "signalpipe/v1", "event_id": id, "event_time": t.UTC().Format(time.RFC3339Nano)}
	user := map[string]any{"user_id": p.userID, "anonymous_id": p.anonID}
	switch {
	case r < 0.55: // web
		ev["source"] = "web"
		names := []string{"page_view", "page_view", "view_content", "add_to_cart", "sign_up", "lead", "purchase"}
		name := names[g.rng.IntN(len(names))]
		ev["event_name"] = name
		url := "https://shop.example.com/products/" + products[g.rng.IntN(len(products))].id
		if p.fbclid != "" && g.rng.Float64() < 0.5 {
			url += "?utm_source=facebook&fbclid=" + p.fbclid
		} else if p.gclid != "" && g.rng.Float64() < 0.5 {
			url += "?gclid=" + p.gclid
		}
		ctx := map[string]any{"page_url": url, "user_agent": userAgents[g.rng.IntN(len(userAgents))], "ip": fmt.Sprintf("203.0.113.%d", g.rng.IntN(254)+1), "cookies": map[string]any{"fbp": p.fbp}}
		ev["context"] = ctx
		if name == "sign_up" || name == "lead" || name == "purchase" {
			user["email"] = p.email
			if p.phone != "" {
				user["phone"] = p.phone
			}
		}
		if name == "purchase" {
			ev["properties"] = g.order()
		}
	case r < 0.8: // app
		ev["source"] = "app"
		names := []string{"sign_up", "add_to_cart", "purchase", "view_content"}
		name := names[g.rng.IntN(len(names))]
		ev["event_name"] = name
		ev["context"] = map[string]any{"ip": fmt.Sprintf("198.51.100.%d", g.rng.IntN(254)+1), "app": map[string]any{"name": "Shop", "version": "4.2.0", "namespace": "com.example.shop"}}
		user["email"] = p.email
		if name == "purchase" {
			ev["properties"] = g.order()
		}
		if g.rng.Float64() < 0.05 {
			ev["consent"] = map[string]any{"ad_user_data": "denied", "ad_personalization": "denied"}
		}
	default: // crm: offline conversions days after the click
		ev["source"] = "crm"
		names := []string{"lead", "qualified_lead", "closed_deal"}
		name := names[g.rng.IntN(len(names))]
		ev["event_name"] = name
		ev["event_time"] = t.Add(-time.Duration(g.rng.IntN(72)) * time.Hour).UTC().Format(time.RFC3339)
		user["email"] = p.email
		user["first_name"] = p.first
		user["last_name"] = p.last
		if p.phone != "" {
			user["phone"] = p.phone
		}
		user["address"] = map[string]any{"city": p.city, "state": p.state, "zip": p.zip, "country": p.country}
		if name == "closed_deal" {
			v := float64(500 + g.rng.IntN(20000))
			ev["properties"] = map[string]any{"value": v, "currency": "USD", "order_id": "deal-" + id}
		}
	}
	ev["user"] = user
	b, _ := json.Marshal(ev)
	src, _ := ev["source"].(string)
	return Record{Topic: g.topicFor(src), Key: []byte(p.userID), Value: b, Kind: kind}
}

func (g *Generator) order() map[string]any {
	n := 1 + g.rng.IntN(3)
	var contents []map[string]any
	total := 0.0
	for i := 0; i < n; i++ {
		pr := products[g.rng.IntN(len(products))]
		q := 1 + g.rng.IntN(2)
		contents = append(contents, map[string]any{"id": pr.id, "quantity": q, "item_price": pr.price})
		total += pr.price * float64(q)
	}
	cur := []string{"USD", "usd", "EUR", "GBP"}[g.rng.IntN(4)]
	return map[string]any{"value": float64(int(total*100)) / 100, "currency": cur, "order_id": fmt.Sprintf("ord-%s-%d", g.seedString, g.seq), "contents": contents}
}

func (g *Generator) schemaViolation() Record {
	rec := g.valid(KindSchema, g.now())
	var m map[string]any
	_ = json.Unmarshal(rec.Value, &m)
	switch g.rng.IntN(3) {
	case 0:
		delete(m, "event_name")
	case 1:
		m["event_time"] = "yesterday"
	default:
		m["properties"] = map[string]any{"value": "lots", "currency": "USD"}
	}
	rec.Value, _ = json.Marshal(m)
	return rec
}

// segment builds a Segment-spec track event, as teams with analytics.js emit.
func (g *Generator) segment() Record {
	p := g.people[g.rng.IntN(len(g.people))]
	id := fmt.Sprintf("seg-%s-%d", g.seedString, g.seq)
	ev := map[string]any{
		"type": "track", "messageId": id, "event": "Order Completed", "userId": p.userID, "anonymousId": p.anonID,
		"timestamp": g.now().UTC().Format(time.RFC3339Nano),
		"properties": map[string]any{"order_id": "seg-ord-" + id, "revenue": 42.5, "currency": "EUR",
			"products": []map[string]any{{"product_id": "sku-tee", "quantity": 2, "price": 21.25}}},
		"context": map[string]any{"ip": "203.0.113.9", "userAgent": userAgents[0],
			"page":   map[string]any{"url": "https://shop.example.com/checkout/thanks", "referrer": "https://shop.example.com/cart"},
			"traits": map[string]any{"email": p.email}},
	}
	b, _ := json.Marshal(ev)
	return Record{Topic: g.topics.Web, Key: []byte(p.userID), Value: b, Kind: KindSegment}
}
