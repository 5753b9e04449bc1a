// Package storetest holds test helpers for code that runs on
// internal/store.
package storetest

import (
	"os"
	"path/filepath"
	"testing"
)

// DamageTables flips bytes in the middle of every table of the Pebble
// database in dir, as a bad disk would, so that reading them fails their
// checksums. It returns the damaged contents, so a test can tell whether a
// table is still one of them.
func DamageTables(tb testing.TB, dir string) map[string]bool {
	tb.Helper()
	tables, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil || len(tables) == 0 {
		tb.Fatalf("no tables to damage in %s (%v)", dir, err)
	}
	damaged := map[string]bool{}
	for _, f := range tables {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for i := len(b) / 8; i < len(b)/2; i += 97 {
			b[i] ^= 0xff
		}
		if err := os.WriteFile(f, b, 0o600); err != nil {
			tb.Fatal(err)
		}
		damaged[string(b)] = true
	}
	return damaged
}

// StillDamaged lists the tables in dir that are one of damaged.
func StillDamaged(dir string, damaged map[string]bool) []string {
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	var still []string
	for _, f := range tables {
		if b, err := os.ReadFile(f); err == nil && damaged[string(b)] {
			still = append(still, filepath.Base(f))
		}
	}
	return still
}
