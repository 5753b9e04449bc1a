package process

import (
	"math"
	"strconv"
	"time"

	json "github.com/goccy/go-json"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Click and browser id names, as in process.click_id_windows.
const (
	idGclid   = "gclid"
	idGbraid  = "gbraid"
	idWbraid  = "wbraid"
	idFbclid  = "fbclid"
	idFbc     = "fbc" // the _fbc cookie; its window is fbclid's
	idFbp     = "fbp"
	idTtclid  = "ttclid"
	idTtp     = "ttp"
	idScCid   = "sccid"
	idEpik    = "epik"
	idRdtCid  = "rdt_cid"
	idLiFatID = "li_fat_id"
	idMsclkid = "msclkid"
)

// maxLinked bounds the identifiers a person remembers having linked; one
// forgotten costs only a repeated (idempotent) link round trip.
const maxLinked = 32

// person is what the stage keeps per identity key. Field names are short:
// it is stored once per person and once per change in the changelog.
type person struct {
	// Seen is when the person was last seen (Unix ms of processing); a
	// person unseen for PersonTTL is forgotten. First, so it is cheap to read.
	Seen int64 `json:"s,omitempty"`
	// Clicks are the click and browser ids seen, by name, with the time
	// they were captured (the event time, Unix ms).
	Clicks map[string]click `json:"c,omitempty"`
	User   event.User       `json:"u,omitzero"`
	// Stage, Value and Excl come from CRM profiles.
	Stage string   `json:"st,omitempty"`
	Value *float64 `json:"cv,omitempty"`
	Excl  []string `json:"x,omitempty"`
	// Consent is the person's last word, and when it was given.
	Consent   *event.Consent `json:"cs,omitempty"`
	ConsentAt int64          `json:"ca,omitempty"`
	// Purchases, Revenue and LastBuy (Unix ms) feed new_customer, lifetime
	// value and the RFM segment.
	Purchases int     `json:"n,omitempty"`
	Revenue   float64 `json:"r,omitempty"`
	LastBuy   int64   `json:"lb,omitempty"`
	// Linked are the identity keys already linked to this person.
	Linked []string `json:"l,omitempty"`
}

type click struct {
	ID string `json:"i"`
	At int64  `json:"t"`
}

func (p *person) linked(key string) bool {
	for _, k := range p.Linked {
		if k == key {
			return true
		}
	}
	return false
}

func (p *person) link(key string) {
	if p.linked(key) {
		return
	}
	p.Linked = append(p.Linked, key)
	if len(p.Linked) > maxLinked {
		p.Linked = p.Linked[len(p.Linked)-maxLinked:]
	}
}

func (p *person) setClick(name, id string, at time.Time) {
	if id == "" {
		return
	}
	ms := at.UnixMilli()
	if c, ok := p.Clicks[name]; ok && c.At > ms {
		return // keep the newer capture
	}
	if p.Clicks == nil {
		p.Clicks = map[string]click{}
	}
	p.Clicks[name] = click{ID: id, At: ms}
}

// observe folds what ev says about the person into p. A CRM record
// overwrites identifiers it carries; other sources only fill blanks.
func (p *person) observe(ev *event.Event) {
	t := ev.EventTime
	c := ev.Context.ClickIDs
	p.setClick(idGclid, c.Gclid, t)
	p.setClick(idGbraid, c.Gbraid, t)
	p.setClick(idWbraid, c.Wbraid, t)
	p.setClick(idFbclid, c.Fbclid, t)
	p.setClick(idTtclid, c.Ttclid, t)
	p.setClick(idScCid, c.ScCid, t)
	p.setClick(idEpik, c.Epik, t)
	p.setClick(idRdtCid, c.RdtCid, t)
	p.setClick(idLiFatID, c.LiFatID, t)
	p.setClick(idMsclkid, c.Msclkid, t)
	p.setClick(idFbc, ev.Context.Cookies.Fbc, t)
	p.setClick(idFbp, ev.Context.Cookies.Fbp, t)
	p.setClick(idTtp, ev.Context.Cookies.Ttp, t)

	overwrite := ev.Source == event.SourceCRM
	set := func(dst *string, v string) {
		if v != "" && (overwrite || *dst == "") {
			*dst = v
		}
	}
	u := ev.User
	set(&p.User.UserID, u.UserID)
	set(&p.User.ExternalID, u.ExternalID)
	set(&p.User.Email, u.Email)
	set(&p.User.Phone, u.Phone)
	set(&p.User.FirstName, u.FirstName)
	set(&p.User.LastName, u.LastName)
	set(&p.User.Gender, u.Gender)
	set(&p.User.DateOfBirth, u.DateOfBirth)
	if u.Address != nil && (overwrite || p.User.Address == nil) {
		a := *u.Address
		p.User.Address = &a
	}
	if pr := ev.Profile; pr != nil {
		if pr.LifecycleStage != "" {
			p.Stage = pr.LifecycleStage
		}
		if pr.CustomerValue != nil {
			v := *pr.CustomerValue
			p.Value = &v
		}
		p.Excl = append([]string(nil), pr.Exclusions...)
	}
	if ev.Consent != nil && ev.EventTime.UnixMilli() >= p.ConsentAt {
		cs := *ev.Consent
		p.Consent, p.ConsentAt = &cs, ev.EventTime.UnixMilli()
	}
}

// merge folds another person's state (an identifier that was just linked
// to p) into p: newer clicks win, p's identifiers win over the other's.
func (p *person) merge(o *person) {
	for name, c := range o.Clicks {
		p.setClick(name, c.ID, time.UnixMilli(c.At))
	}
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&p.User.UserID, o.User.UserID)
	fill(&p.User.ExternalID, o.User.ExternalID)
	fill(&p.User.Email, o.User.Email)
	fill(&p.User.Phone, o.User.Phone)
	fill(&p.User.FirstName, o.User.FirstName)
	fill(&p.User.LastName, o.User.LastName)
	fill(&p.User.Gender, o.User.Gender)
	fill(&p.User.DateOfBirth, o.User.DateOfBirth)
	if p.User.Address == nil && o.User.Address != nil {
		a := *o.User.Address
		p.User.Address = &a
	}
	if p.Stage == "" {
		p.Stage = o.Stage
	}
	if p.Value == nil && o.Value != nil {
		v := *o.Value
		p.Value = &v
	}
	for _, x := range o.Excl {
		if !contains(p.Excl, x) {
			p.Excl = append(p.Excl, x)
		}
	}
	if o.Consent != nil && o.ConsentAt > p.ConsentAt {
		p.Consent, p.ConsentAt = o.Consent, o.ConsentAt
	}
	p.Seen = max(p.Seen, o.Seen)
	p.Purchases += o.Purchases
	p.Revenue += o.Revenue
	p.LastBuy = max(p.LastBuy, o.LastBuy)
	for _, k := range o.Linked {
		p.link(k)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// isConversion reports whether ev counts as a purchase for new_customer,
// lifetime value and RFM.
func isConversion(ev *event.Event) bool {
	return (ev.EventName == event.NamePurchase || ev.EventName == event.NameClosedDeal) && ev.Properties.Value != nil
}

// attach gives ev what p knows and ev lacks: identifiers, click ids still
// inside their windows, consent, and the value signals. It runs after
// observe, so the event's own facts are already in p.
func (p *person) attach(ev *event.Event, windows map[string]time.Duration, prevPurchases int, prevBuy int64) {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	u := &ev.User
	fill(&u.UserID, p.User.UserID)
	fill(&u.ExternalID, p.User.ExternalID)
	fill(&u.Email, p.User.Email)
	fill(&u.Phone, p.User.Phone)
	fill(&u.FirstName, p.User.FirstName)
	fill(&u.LastName, p.User.LastName)
	fill(&u.Gender, p.User.Gender)
	fill(&u.DateOfBirth, p.User.DateOfBirth)
	if u.Address == nil && p.User.Address != nil {
		a := *p.User.Address
		u.Address = &a
	}

	at := ev.EventTime.UnixMilli()
	valid := func(name, window string) (click, bool) {
		c, ok := p.Clicks[name]
		if !ok || c.At > at+int64(time.Minute/time.Millisecond) {
			return click{}, false // captured after this event (a late record): not its click
		}
		w := windows[window]
		return c, w > 0 && at-c.At <= w.Milliseconds()
	}
	cids := &ev.Context.ClickIDs
	attachGoogle(cids, ev.Source, func(name string) (click, bool) { return valid(name, name) })
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{idTtclid, &cids.Ttclid}, {idScCid, &cids.ScCid}, {idEpik, &cids.Epik},
		{idRdtCid, &cids.RdtCid}, {idLiFatID, &cids.LiFatID}, {idMsclkid, &cids.Msclkid},
	} {
		if c, ok := valid(f.name, f.name); ok && *f.dst == "" {
			*f.dst = c.ID
		}
	}
	ck := &ev.Context.Cookies
	if c, ok := valid(idFbp, idFbp); ok && ck.Fbp == "" {
		ck.Fbp = c.ID
	}
	if c, ok := valid(idTtp, idTtp); ok && ck.Ttp == "" {
		ck.Ttp = c.ID
	}
	if ck.Fbc == "" {
		// Prefer the _fbc cookie; else build fbc from the fbclid and the
		// time it was captured, as Meta documents: fb.1.<ms>.<fbclid>.
		fc, okc := valid(idFbc, idFbclid)
		fl, okl := valid(idFbclid, idFbclid)
		switch {
		case okl && (!okc || fl.At > fc.At):
			ck.Fbc = "fb.1." + strconv.FormatInt(fl.At, 10) + "." + fl.ID
			fill(&cids.Fbclid, fl.ID)
		case okc:
			ck.Fbc = fc.ID
		}
	}
	if ev.Consent == nil && p.Consent != nil {
		cs := *p.Consent
		ev.Consent = &cs
	}

	en := enrichment(ev)
	if isConversion(ev) {
		nc := prevPurchases == 0
		en.NewCustomer = &nc
		en.RFM = rfm(p, at, prevBuy)
	}
	switch {
	case p.Value != nil:
		v := *p.Value
		en.LifetimeValue = &v
	case p.Revenue > 0:
		v := p.Revenue
		en.LifetimeValue = &v
	}
}

// attachGoogle sets at most one of gclid, gbraid and wbraid, as Google
// requires (GBRAID_WBRAID_BOTH_SET; a conversion names one click). The
// event's own click wins; a gclid is preferred over the iOS ids, and of two
// iOS ids the one of the event's kind (wbraid on the web, gbraid in apps).
// With none of its own, the event gets the most recent stored Google click
// still inside its window.
func attachGoogle(c *event.ClickIDs, src event.Source, valid func(string) (click, bool)) {
	if c.Gclid != "" || c.Gbraid != "" || c.Wbraid != "" {
		switch {
		case c.Gclid != "":
			c.Gbraid, c.Wbraid = "", ""
		case c.Gbraid != "" && c.Wbraid != "":
			if src == event.SourceApp {
				c.Wbraid = ""
			} else {
				c.Gbraid = ""
			}
		}
		return
	}
	best, bestName := click{At: math.MinInt64}, ""
	for _, name := range []string{idGclid, idWbraid, idGbraid} { // ties: gclid first
		if cl, ok := valid(name); ok && cl.At > best.At {
			best, bestName = cl, name
		}
	}
	switch bestName {
	case idGclid:
		c.Gclid = best.ID
	case idWbraid:
		c.Wbraid = best.ID
	case idGbraid:
		c.Gbraid = best.ID
	}
}

func enrichment(ev *event.Event) *event.Enrichment {
	if ev.Enrichment == nil {
		ev.Enrichment = &event.Enrichment{}
	}
	return ev.Enrichment
}

// rfm scores recency (days since the purchase before this one; a first
// purchase is as recent as can be), frequency (purchases) and monetary value
// (revenue) from 1 to 5 on fixed bands.
func rfm(p *person, now, prevBuy int64) string {
	band := func(v float64, edges [4]float64, higherIsBetter bool) int {
		s := 1
		for _, e := range edges {
			if v >= e {
				s++
			}
		}
		if !higherIsBetter {
			s = 6 - s
		}
		return s
	}
	days := 0.0
	if prevBuy > 0 && now > prevBuy {
		days = float64(now-prevBuy) / float64(24*time.Hour/time.Millisecond)
	}
	r := band(days, [4]float64{7, 30, 90, 180}, false)
	f := band(float64(p.Purchases), [4]float64{2, 3, 5, 10}, true)
	m := band(p.Revenue, [4]float64{50, 200, 1000, 5000}, true)
	return "R" + strconv.Itoa(r) + "F" + strconv.Itoa(f) + "M" + strconv.Itoa(m)
}

func decodePerson(b []byte) (*person, error) {
	p := &person{}
	if len(b) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, err
	}
	return p, nil
}
