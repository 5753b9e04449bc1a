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
	"time"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/meta"
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
	platform := fs.String("platform", "", "platform whose rules apply (meta)")
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

// previewCmd prints the exact request body one event would be sent as.
func previewCmd(_ context.Context, args []string, io IO) int {
	fs := newFlags("preview", io)
	dest := fs.String("destination", "", "destination (meta)")
	path := fs.String("config", "", "config file whose destination settings apply (default: built-in defaults)")
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
		if *dest != config.TypeMeta {
			fmt.Fprintf(io.Err, "signalpipe preview: --destination must be one of: %v (or a destination name with --config), got %q\n", config.Types, *dest)
			return exitUsage
		}
		dc = config.Destination{Type: config.TypeMeta, Meta: &meta.Config{PixelID: "PIXEL_ID", AccessTokenEnv: "META_ACCESS_TOKEN"}}
	}
	if dc.Type != config.TypeMeta {
		return fail(io, "preview: destination type %q has no preview yet", dc.Type)
	}
	mc := *dc.Meta
	mc.ApplyDefaults()
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
	p, err := mc.Prepare(&ev)
	if err != nil {
		return fail(io, "preview: meta would reject this event: %v", err)
	}
	body := mc.Body([]destination.Prepared{p})
	fmt.Fprintf(io.Err, "POST %s/%s/%s/events?access_token=[from $%s]\n", mc.Endpoint, mc.APIVersion, mc.PixelID, mc.AccessTokenEnv)
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
