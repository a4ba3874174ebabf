package config

import (
	"log/slog"

	"github.com/guestaccess/guestaccess/shared/platform/applog"
)

// Logger returns the JSON logger every function uses (see applog.New):
// level from LOG_LEVEL, and the Lambda request id on every record logged
// with a context.
func Logger() *slog.Logger { return applog.New() }
