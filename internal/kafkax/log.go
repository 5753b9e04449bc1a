package kafkax

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// slogLogger adapts slog to franz-go's logger: warnings and errors always,
// and the client's info messages (joins, rebalances, transactions) when our
// logger is at debug level, so broker trouble can be diagnosed.
type slogLogger struct{ l *slog.Logger }

// Logger returns a franz-go logger writing to l.
func Logger(l *slog.Logger) kgo.Logger { return slogLogger{l} }

func (s slogLogger) Level() kgo.LogLevel {
	if s.l.Enabled(context.Background(), slog.LevelDebug) {
		return kgo.LogLevelInfo
	}
	return kgo.LogLevelWarn
}

func (s slogLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch level {
	case kgo.LogLevelError:
		s.l.Error("kafka: "+msg, keyvals...)
	case kgo.LogLevelWarn:
		s.l.Warn("kafka: "+msg, keyvals...)
	case kgo.LogLevelInfo:
		s.l.Debug("kafka: "+msg, keyvals...)
	}
}
