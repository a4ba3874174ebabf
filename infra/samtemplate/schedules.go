package samtemplate

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is one Schedule event of a function: the function it runs and
// how often.
type Schedule struct {
	// FunctionID is the logical id of the function the event belongs to.
	FunctionID string
	// EventID is the event's key under the function's Events.
	EventID string
	// Expression is the event's Schedule as written, e.g. "rate(15 minutes)".
	Expression string
	// Every is the period of a rate() expression (0 for a cron() one).
	Every time.Duration
}

// Schedules returns every Schedule event of the template's functions, in
// the template's order; a Schedule given as !Ref to a parameter is that
// parameter's Default. A rate() expression that does not parse is an error.
func (t *Template) Schedules() ([]Schedule, error) {
	var out []Schedule
	for _, id := range t.ofType(typeFunction) {
		events := at(t.resources[id], "Properties", "Events")
		if events == nil {
			continue
		}
		for i := 0; i+1 < len(events.Content); i += 2 {
			evID, ev := events.Content[i].Value, deref(events.Content[i+1])
			if str(get(ev, "Type")) != "Schedule" {
				continue
			}
			node := get(get(ev, "Properties"), "Schedule")
			expr, ok := literal(node)
			if in, isRef := intrinsic(node); isRef && in.Fn == "Ref" {
				// A template parameter: its Default is what a deploy without an override runs.
				expr, ok = t.ParameterDefaults()[in.Arg]
			}
			if !ok {
				return nil, fmt.Errorf("samtemplate: Schedule event %s.%s needs a literal Schedule or a !Ref to a parameter with a Default", id, evID)
			}
			s := Schedule{FunctionID: id, EventID: evID, Expression: expr}
			if strings.HasPrefix(expr, "rate(") {
				d, err := ParseRate(expr)
				if err != nil {
					return nil, fmt.Errorf("samtemplate: Schedule event %s.%s: %w", id, evID, err)
				}
				s.Every = d
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// ParseRate reads an EventBridge rate expression, "rate(<n> <unit>)" with
// unit minute(s), hour(s) or day(s) (singular only for 1, as EventBridge
// requires).
func ParseRate(expr string) (time.Duration, error) {
	in, isRate := strings.CutPrefix(expr, "rate(")
	in, closed := strings.CutSuffix(in, ")")
	if !isRate || !closed {
		return 0, fmt.Errorf("%q is not a rate(…) expression", expr)
	}
	num, unit, _ := strings.Cut(strings.TrimSpace(in), " ")
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q: the rate must be a positive whole number", expr)
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	base, plural := strings.CutSuffix(unit, "s")
	d, known := units[base]
	if !known || plural == (n == 1) {
		return 0, fmt.Errorf("%q: the unit must be minute, hour or day (plural unless the rate is 1)", expr)
	}
	return time.Duration(n) * d, nil
}
