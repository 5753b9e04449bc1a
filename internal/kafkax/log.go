package kafkax

import (
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// slogLogger adapts slog to franz-go's logger at warn level and above, so
// broker trouble shows up in our logs without its chatter.
type slogLogger struct{ l *slog.Logger }

// Logger returns a franz-go logger writing to l.
func Logger(l *slog.Logger) kgo.Logger { return slogLogger{l} }

func (s slogLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (s slogLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch level {
	case kgo.LogLevelError:
		s.l.Error("kafka: "+msg, keyvals...)
	case kgo.LogLevelWarn:
		s.l.Warn("kafka: "+msg, keyvals...)
	}
}
