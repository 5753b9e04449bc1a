package sandbox

import (
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultMaxRecorded is the number of accepted events each platform stores
// when Options.MaxRecorded is zero. Events beyond it are counted, not stored.
const DefaultMaxRecorded = 2_000_000

// Options configures a Server. The zero value is usable.
type Options struct {
	// Clock is the sandbox's notion of now: event-age checks, fault expiry
	// and ReceivedAt use it. nil means time.Now.
	Clock func() time.Time
	// MetaTokens maps a pixel ID to the one access token accepted for it.
	// When nil or empty, any non-empty token is accepted for any pixel.
	MetaTokens map[string]string
	// MaxRecorded bounds the accepted events stored per platform; beyond it
	// events are counted (Stats().Dropped) but not stored. 0 means
	// DefaultMaxRecorded; a negative value stores none.
	MaxRecorded int
	// Logger receives the sandbox's logs. nil discards them. Logs never
	// contain tokens or customer information.
	Logger *slog.Logger
	// AdminToken, when set, is required as "Authorization: Bearer <token>"
	// on every /_sandbox/* admin endpoint.
	AdminToken string
	// WebhookSecret is the HMAC secret the webhook receiver checks
	// X-Signalpipe-Signature against. Empty accepts any well-formed signature
	// (the signature and timestamp headers are still required).
	WebhookSecret string
	// BearerTokens maps a platform that authenticates with a bearer token
	// (linkedin, reddit, microsoft) to the one token it accepts. A platform
	// without an entry accepts any non-empty token.
	BearerTokens map[string]string
}

// Server is a multi-platform emulator of the ad platforms' conversion APIs.
// Create it with New and serve Handler; it is safe for concurrent use.
type Server struct {
	clock      func() time.Time
	logger     *slog.Logger
	adminToken string
	// platforms is fixed by New; only each slot's fault changes afterwards.
	platforms map[string]*platformSlot
	handler   http.Handler
}

// emulatorEnv is what every emulator is built from.
type emulatorEnv struct {
	clock       func() time.Time
	logger      *slog.Logger
	maxRecorded int
	opts        Options
}

// emulators lists every emulated platform: the one place a new one is
// added (its file set holds the rest).
var emulators = []struct {
	name string
	new  func(emulatorEnv) platform
}{
	{metaName, func(e emulatorEnv) platform {
		return newMetaAPI(e.clock, maps.Clone(e.opts.MetaTokens), e.logger, e.maxRecorded)
	}},
	{webhookName, func(e emulatorEnv) platform {
		return newWebhookAPI(e.clock, e.opts.WebhookSecret, e.logger, e.maxRecorded)
	}},
	{linkedinName, newLinkedInAPI},
	{redditName, newRedditAPI},
	{microsoftName, newMicrosoftAPI},
	{microsoftOfflineName, newMicrosoftOfflineAPI},
}

// platform is what each emulated platform provides to the shared server:
// its routes, its way of answering an injected fault, and its recording.
type platform interface {
	// name is the platform's key in SetFault, admin paths and fault flags.
	name() string
	// routes are the platform's API endpoints at their real paths.
	routes() []route
	// writeFault answers a request with the injected fault f (f.Status != 0)
	// in the platform's own error format.
	writeFault(w http.ResponseWriter, f Fault)
	// counters are the per-request counts the shared middleware maintains.
	counters() *requestCounters
	// stats, events and reset back the admin API.
	stats() any
	events(limit int, eventID string) any
	reset()
}

// route is one API endpoint of a platform.
type route struct {
	method  string
	path    string // a net/http pattern path, e.g. "/{version}/{pixel}/events"
	handler http.HandlerFunc
	// unprefixed serves the route only at its real path, for a path whose
	// /{platform}/ form would collide with another platform's real path.
	unprefixed bool
}

// platformSlot pairs a platform with its current fault, if any.
type platformSlot struct {
	api   platform
	fault atomic.Pointer[faultState]
}

// New returns a Server that emulates every platform listed in emulators.
func New(o Options) *Server {
	clock := o.Clock
	if clock == nil {
		clock = time.Now
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	maxRecorded := o.MaxRecorded
	switch {
	case maxRecorded == 0:
		maxRecorded = DefaultMaxRecorded
	case maxRecorded < 0:
		maxRecorded = 0
	}

	s := &Server{
		clock:      clock,
		logger:     logger,
		adminToken: o.AdminToken,
		platforms:  make(map[string]*platformSlot),
	}
	env := emulatorEnv{clock: clock, logger: logger, maxRecorded: maxRecorded, opts: o}
	for _, e := range emulators {
		s.platforms[e.name] = &platformSlot{api: e.new(env)}
	}

	mux := http.NewServeMux()
	for _, name := range s.platformNames() {
		slot := s.platforms[name]
		for _, rt := range slot.api.routes() {
			h := s.withFaults(slot, rt.handler)
			mux.Handle(rt.method+" "+rt.path, h)
			if !rt.unprefixed {
				mux.Handle(rt.method+" /"+name+rt.path, h)
			}
		}
	}
	s.registerAdmin(mux)
	s.handler = mux
	return s
}

// Handler returns the HTTP handler serving every platform's API and the
// /_sandbox/* admin API.
func (s *Server) Handler() http.Handler { return s.handler }

// Meta returns the recorder of the events the Meta emulator accepted.
func (s *Server) Meta() *MetaRecorder { return emulator[*metaAPI](s, metaName).rec }

// Webhook returns the recorder of the events the webhook receiver accepted.
func (s *Server) Webhook() *WebhookRecorder { return emulator[*webhookAPI](s, webhookName).rec }

// emulator returns the platform named name as its concrete type.
func emulator[T platform](s *Server, name string) T {
	return s.platforms[name].api.(T)
}

// platformNames returns the emulated platforms' names, sorted.
func (s *Server) platformNames() []string {
	return slices.Sorted(maps.Keys(s.platforms))
}

// knownPlatform reports whether name is a platform the sandbox emulates. It
// reads the emulators list rather than a Server so that ParseFaultFlag can
// check names before any Server exists.
func knownPlatform(name string) bool {
	for _, e := range emulators {
		if e.name == name {
			return true
		}
	}
	return false
}

// emulatorNames lists the emulated platforms, for error messages.
func emulatorNames() string {
	names := make([]string, len(emulators))
	for i, e := range emulators {
		names[i] = e.name
	}
	return strings.Join(names, ", ")
}

// Start serves s on addr ("127.0.0.1:0" picks a port) in the background and
// returns its base URL and a function that stops it.
func (s *Server) Start(addr string) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("sandbox: listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}
