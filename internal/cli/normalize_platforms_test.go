package cli

import (
	"strings"
	"testing"
)

// TestNormalizePhoneFormatsPerPlatform: the same number comes out in each
// platform's documented format (TikTok E.164 with '+', Snapchat and
// Pinterest digits only). Digests: printf %s VALUE | sha256sum.
func TestNormalizePhoneFormatsPerPlatform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		platform string
		want     string
	}{
		{"tiktok", "+16505551212\t1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"},
		{"snapchat", "16505551212\te323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"},
		{"pinterest", "16505551212\te323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, "(650) 555-1212\n", "normalize", "--platform", tt.platform, "--field", "phone", "--region", "US")
			if code != 0 || strings.TrimSpace(out) != tt.want {
				t.Fatalf("exit %d, out %q (stderr %q), want %q", code, out, errOut, tt.want)
			}
		})
	}
}
