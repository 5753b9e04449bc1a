package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/pii"
	"github.com/signalpipe/signalpipe/internal/schema"
)

// maxLine bounds one input line of the line-oriented tools.
const maxLine = 4 << 20

// openInput opens the file named by the first argument, or stdin.
func openInput(args []string, io IO) (io.ReadCloser, error) {
	if len(args) == 0 || args[0] == "-" {
		return nopCloser{io.In}, nil
	}
	if len(args) > 1 {
		return nil, fmt.Errorf("want at most one FILE, got %d", len(args))
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, err
	}
	return f, nil
}

type nopCloser struct{ io.Reader }

func (nopCloser) Close() error { return nil }

func newDecoder() (*ingest.Decoder, error) {
	v, err := schema.New()
	if err != nil {
		return nil, fmt.Errorf("compiling schemas: %w", err)
	}
	return ingest.NewDecoder(v, ingest.DecodeOptions{MaxRecordBytes: config.DefaultMaxRecordBytes}), nil
}

// validateCmd checks JSON-lines events exactly as ingest does (schema, event
// names, currency, times) and prints ok or the error with its JSON path.
func validateCmd(_ context.Context, args []string, io IO) int {
	fs := newFlags("validate", io)
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: signalpipe validate [FILE]\n\nReads events as JSON lines (stdin without FILE) and prints, per line, ok or the error with its JSON path. Exit status 1 if any line is invalid.")
	}
	if code, done := parse(fs, args); done {
		return code
	}
	in, err := openInput(fs.Args(), io)
	if err != nil {
		return fail(io, "validate: %v", err)
	}
	defer in.Close()
	dec, err := newDecoder()
	if err != nil {
		return fail(io, "%v", err)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	bad, n := 0, 0
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		n++
		_, err := dec.Decode(line, event.Origin{Topic: "stdin", Offset: int64(n)}, time.Now())
		if err == nil {
			fmt.Fprintln(io.Out, "ok")
			continue
		}
		bad++
		var de *ingest.DecodeError
		if errors.As(err, &de) {
			path := de.Path
			if path == "" {
				path = "/"
			}
			fmt.Fprintf(io.Out, "line %d: %s at %s: %s\n", n, de.Reason, path, de.Detail)
			continue
		}
		fmt.Fprintf(io.Out, "line %d: %v\n", n, err)
	}
	if err := sc.Err(); err != nil {
		return fail(io, "validate: reading input: %v", err)
	}
	if bad > 0 {
		fmt.Fprintf(io.Err, "%d of %d events invalid\n", bad, n)
		return exitFailed
	}
	return exitOK
}

// normalizeCmd prints each raw value as the platform normalizes and hashes it.
func normalizeCmd(_ context.Context, args []string, io IO) int {
	fs := newFlags("normalize", io)
	platform := fs.String("platform", "", "platform whose rules apply ("+platformNames()+")")
	field := fs.String("field", "", "canonical field: email, phone, first_name, last_name, gender, date_of_birth, city, state, zip, country, external_id, street")
	region := fs.String("region", "", "ISO-3166 country for phone numbers without a country code, e.g. US")
	if code, done := parse(fs, args); done {
		return code
	}
	p, err := pii.ParsePlatform(*platform)
	if err != nil {
		fmt.Fprintf(io.Err, "signalpipe normalize: --platform: %v\n", err)
		return exitUsage
	}
	f, err := pii.ParseField(*field)
	if err != nil {
		fmt.Fprintf(io.Err, "signalpipe normalize: --field: %v\n", err)
		return exitUsage
	}
	in, err := openInput(fs.Args(), io)
	if err != nil {
		return fail(io, "normalize: %v", err)
	}
	defer in.Close()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	w := bufio.NewWriter(io.Out)
	defer w.Flush()
	bad := 0
	for sc.Scan() {
		norm, hash, err := pii.Hash(p, f, sc.Text(), pii.Options{DefaultRegion: *region})
		if err != nil {
			bad++
			reason := err.Error()
			var pe *pii.Error
			if errors.As(err, &pe) {
				reason = pe.Reason
			}
			fmt.Fprintf(w, "error\t%s\n", reason)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\n", norm, hash)
	}
	if err := sc.Err(); err != nil {
		return fail(io, "normalize: reading input: %v", err)
	}
	if bad > 0 {
		return exitFailed
	}
	return exitOK
}

// previewCmd prints the exact request one event would be sent as.
func previewCmd(_ context.Context, args []string, io IO) int {
	fs := newFlags("preview", io)
	dest := fs.String("destination", "", "destination type ("+strings.Join(config.Types, ", ")+"), or a destination name with --config")
	path := fs.String("config", "", "config file whose destination settings apply (default: built-in defaults with placeholder ids)")
	pretty := fs.Bool("pretty", false, "indent the body (the bytes sent are compact)")
	if code, done := parse(fs, args); done {
		return code
	}
	var dc config.Destination
	if *path != "" {
		cfg, err := config.Load(*path)
		if err != nil {
			return fail(io, "%v", err)
		}
		d, ok := cfg.Destination(*dest)
		if !ok {
			return fail(io, "preview: %s has no destination named (or of type) %q", *path, *dest)
		}
		dc = d
	} else {
		d, ok := config.Example(*dest)
		if !ok {
			fmt.Fprintf(io.Err, "signalpipe preview: --destination must be one of: %s (or a destination name with --config), got %q\n", strings.Join(config.Types, ", "), *dest)
			return exitUsage
		}
		dc = d
	}
	// Secrets are never needed to render a request: every variable reads as
	// a placeholder, and Preview shows where the real value comes from.
	d, err := dc.Platform().Open(func(string) string { return "preview-placeholder" }, nil)
	if err != nil {
		return fail(io, "preview: %s: %v", dc.Name, err)
	}
	defer d.Close()
	pv, ok := d.(destination.Previewer)
	if !ok {
		return fail(io, "preview: destination type %q has no preview", dc.Type)
	}
	in, err := openInput(fs.Args(), io)
	if err != nil {
		return fail(io, "preview: %v", err)
	}
	defer in.Close()
	raw, err := readAllLimited(in, config.DefaultMaxRecordBytes)
	if err != nil {
		return fail(io, "preview: %v", err)
	}
	dec, err := newDecoder()
	if err != nil {
		return fail(io, "%v", err)
	}
	ev, err := dec.Decode(bytes.TrimSpace(raw), event.Origin{Topic: "preview"}, time.Now())
	if err != nil {
		return fail(io, "preview: the event is invalid: %v", err)
	}
	if !dc.Accepts(ev.EventName) {
		fmt.Fprintf(io.Err, "note: %s is not among %s's events; it would not be routed there\n", ev.EventName, dc.Name)
	}
	p, err := d.Prepare(&ev)
	if err != nil {
		return fail(io, "preview: %s would reject this event: %v", dc.Name, err)
	}
	req, err := pv.Preview([]destination.Prepared{p})
	if err != nil {
		return fail(io, "preview: %v", err)
	}
	fmt.Fprintf(io.Err, "%s %s\n", req.Method, req.URL)
	for _, h := range req.Header {
		fmt.Fprintf(io.Err, "%s\n", h)
	}
	body := req.Body
	if *pretty {
		var buf bytes.Buffer
		_ = json.Indent(&buf, body, "", "  ")
		body = buf.Bytes()
	}
	fmt.Fprintf(io.Out, "%s\n", body)
	return exitOK
}

func readAllLimited(r io.Reader, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("input is larger than %d bytes", limit)
	}
	return b, nil
}

// platformNames lists the platforms with normalization rules, for flag help.
func platformNames() string {
	var names []string
	for _, p := range pii.Platforms() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}
