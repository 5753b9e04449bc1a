// Package schemas embeds signalpipe's versioned JSON Schemas (draft 2020-12)
// and example events, so the binary validates records without reading files
// at run time.
//
// Layout:
//
//	v1/common.json, v1/{web,app,crm}.json          the signalpipe/v1 envelope, one schema per source
//	segment/v1/common.json, segment/v1/{track,identify,page,screen}.json   Segment-spec calls
//	examples/*.json                                 one valid example per kind; tests validate each
//
// A new envelope version goes in a new folder (v2/) next to v1/, never as an
// edit that rejects records v1 accepted.
package schemas

import "embed"

// FS holds every schema and example under this folder, with paths relative
// to it (v1/web.json, segment/v1/track.json, examples/web_purchase.json).
//
//go:embed v1/*.json segment/v1/*.json examples/*.json
var FS embed.FS

// BaseURL is the prefix of every schema's $id: a file at path p in FS has the
// $id BaseURL+p. It identifies schemas; nothing is fetched from it.
const BaseURL = "https://signalpipe.dev/schemas/"
