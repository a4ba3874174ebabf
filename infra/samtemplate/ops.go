package samtemplate

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Resource types of the operations' resources (log groups, alarms, queues).
const (
	TypeLogGroup  = "AWS::Logs::LogGroup"
	TypeAlarm     = "AWS::CloudWatch::Alarm"
	TypeDashboard = "AWS::CloudWatch::Dashboard"
	TypeQueue     = "AWS::SQS::Queue"
)

// Value renders a template value as text: a literal as itself, an
// intrinsic function in short form ("!Ref AlarmTopic", "!GetAtt
// Q.QueueName", "!Sub ..."); "" when absent or a list or mapping.
func Value(n *yaml.Node) string {
	if in, ok := intrinsic(n); ok {
		return in.String()
	}
	return str(n)
}

// ResourceIDs returns the logical ids of the resources of type typ, sorted.
func (t *Template) ResourceIDs(typ string) []string { return t.ofType(typ) }

// ResourceType returns the Type of resource id, "" if the template has none.
func (t *Template) ResourceType(id string) string { return t.types[id] }

// ResourceCondition returns the Condition of resource id ("" if none).
func (t *Template) ResourceCondition(id string) string {
	return str(get(t.resources[id], "Condition"))
}

// Property returns the value at a path of keys under resource id's
// Properties, rendered by [Value] ("" if absent).
func (t *Template) Property(id string, keys ...string) string {
	return Value(at(get(t.resources[id], "Properties"), keys...))
}

// Ref returns the logical id a value names with !Ref X or !GetAtt X.Attr
// (with the attribute, or "" for a Ref), ok false for anything else.
func Ref(value string) (id, attr string, ok bool) {
	if v, isRef := strings.CutPrefix(value, "!Ref "); isRef {
		return v, "", true
	}
	if v, isGetAtt := strings.CutPrefix(value, "!GetAtt "); isGetAtt {
		id, attr, _ = strings.Cut(v, ".")
		return id, attr, true
	}
	return "", "", false
}

// FunctionLogging is where a function's logs go: its LoggingConfig, the
// function's own over Globals.Function's.
type FunctionLogging struct {
	// LogGroup is LoggingConfig.LogGroup as written (e.g. "!Ref XLogGroup").
	LogGroup string
	// LogFormat is "JSON" or "Text" ("" when not set).
	LogFormat string
	// Tracing is the function's Tracing ("Active", "PassThrough", "").
	Tracing string
}

// Logging returns function id's logging and tracing settings, each the
// function's own or else Globals.Function's.
func (t *Template) Logging(id string) FunctionLogging {
	own := get(t.resources[id], "Properties")
	global := at(t.root, "Globals", "Function")
	pick := func(keys ...string) string {
		if v := Value(at(own, keys...)); v != "" {
			return v
		}
		return Value(at(global, keys...))
	}
	return FunctionLogging{LogGroup: pick("LoggingConfig", "LogGroup"), LogFormat: pick("LoggingConfig", "LogFormat"), Tracing: pick("Tracing")}
}

// MetricRef is one CloudWatch metric an alarm reads.
type MetricRef struct {
	Namespace, MetricName string
	// Dimensions maps each dimension's Name to its Value, rendered by
	// [Value] ("!Ref InviteGuestsFunction", "!GetAtt Q.QueueName", a literal).
	Dimensions map[string]string
	// Period is the metric's Period as written (a number or "!Ref Param").
	Period string
}

// Alarm is an AWS::CloudWatch::Alarm: what it reads, when it fires and
// whom it tells.
type Alarm struct {
	LogicalID string
	// Condition is the alarm's resource Condition ("" if none).
	Condition string
	// Metrics are the metrics it reads: one for a single-metric alarm, each
	// MetricStat of a metric-math alarm's Metrics.
	Metrics []MetricRef
	// Expression is a metric-math alarm's returned expression.
	Expression string
	// AlarmActions and OKActions as rendered by [Value].
	AlarmActions, OKActions                                            []string
	ComparisonOperator, Threshold, TreatMissingData, EvaluationPeriods string
}

// Alarms returns the template's alarms, sorted by logical id. An alarm
// with neither a MetricName nor Metrics is an error.
func (t *Template) Alarms() ([]Alarm, error) {
	var out []Alarm
	for _, id := range t.ofType(TypeAlarm) {
		p := get(t.resources[id], "Properties")
		a := Alarm{LogicalID: id, Condition: t.ResourceCondition(id),
			ComparisonOperator: Value(get(p, "ComparisonOperator")), Threshold: Value(get(p, "Threshold")),
			TreatMissingData: Value(get(p, "TreatMissingData")), EvaluationPeriods: Value(get(p, "EvaluationPeriods"))}
		for _, n := range seq(get(p, "AlarmActions")) {
			a.AlarmActions = append(a.AlarmActions, Value(n))
		}
		for _, n := range seq(get(p, "OKActions")) {
			a.OKActions = append(a.OKActions, Value(n))
		}
		if get(p, "MetricName") != nil {
			a.Metrics = append(a.Metrics, metricRef(p, Value(get(p, "Period"))))
		}
		for _, m := range seq(get(p, "Metrics")) {
			if stat := get(m, "MetricStat"); stat != nil {
				a.Metrics = append(a.Metrics, metricRef(get(stat, "Metric"), Value(get(stat, "Period"))))
			} else if str(get(m, "ReturnData")) != "false" {
				a.Expression = Value(get(m, "Expression"))
			}
		}
		if len(a.Metrics) == 0 {
			return nil, fmt.Errorf("samtemplate: alarm %s reads no metric", id)
		}
		out = append(out, a)
	}
	return out, nil
}

func metricRef(n *yaml.Node, period string) MetricRef {
	m := MetricRef{Namespace: Value(get(n, "Namespace")), MetricName: Value(get(n, "MetricName")), Dimensions: map[string]string{}, Period: period}
	for _, d := range seq(get(n, "Dimensions")) {
		m.Dimensions[Value(get(d, "Name"))] = Value(get(d, "Value"))
	}
	return m
}

// EventSource is one SQS event of a function (an event source mapping).
type EventSource struct {
	FunctionID, EventID string
	// Queue is the event's Queue as written ("!GetAtt GroupJobsQueue.Arn").
	Queue string
	// MaximumConcurrency is ScalingConfig.MaximumConcurrency as written.
	MaximumConcurrency string
}

// SQSEvents returns every SQS event of the template's functions.
func (t *Template) SQSEvents() []EventSource {
	var out []EventSource
	t.events("SQS", func(fn, ev string, p *yaml.Node) {
		out = append(out, EventSource{FunctionID: fn, EventID: ev, Queue: Value(get(p, "Queue")),
			MaximumConcurrency: Value(at(p, "ScalingConfig", "MaximumConcurrency"))})
	})
	return out
}

// ScheduleTarget is how EventBridge hands one Schedule event to its
// function: its retry policy and dead-letter queue.
type ScheduleTarget struct {
	FunctionID, EventID string
	// MaximumRetryAttempts and MaximumEventAgeInSeconds are the event's
	// RetryPolicy as written ("" when absent).
	MaximumRetryAttempts, MaximumEventAgeInSeconds string
	// DeadLetterArn is DeadLetterConfig.Arn as written; DeadLetterType its
	// Type (SAM then creates the queue itself).
	DeadLetterArn, DeadLetterType string
}

// ScheduleTargets returns the delivery settings of every Schedule event.
func (t *Template) ScheduleTargets() []ScheduleTarget {
	var out []ScheduleTarget
	t.events("Schedule", func(fn, ev string, p *yaml.Node) {
		out = append(out, ScheduleTarget{FunctionID: fn, EventID: ev,
			MaximumRetryAttempts:     Value(at(p, "RetryPolicy", "MaximumRetryAttempts")),
			MaximumEventAgeInSeconds: Value(at(p, "RetryPolicy", "MaximumEventAgeInSeconds")),
			DeadLetterArn:            Value(at(p, "DeadLetterConfig", "Arn")),
			DeadLetterType:           Value(at(p, "DeadLetterConfig", "Type"))})
	})
	return out
}

// events calls f with the Properties of every event of type typ.
func (t *Template) events(typ string, f func(fn, ev string, props *yaml.Node)) {
	for _, id := range t.ofType(typeFunction) {
		events := at(t.resources[id], "Properties", "Events")
		if events == nil || events.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(events.Content); i += 2 {
			if ev := deref(events.Content[i+1]); str(get(ev, "Type")) == typ {
				f(id, events.Content[i].Value, get(ev, "Properties"))
			}
		}
	}
}

// DeadLetterQueues returns the logical ids of the template's queues that
// receive dead letters, each with what sends them there: another queue's
// RedrivePolicy, a Schedule event's DeadLetterConfig, a function's
// DeadLetterQueue or its EventInvokeConfig's OnFailure destination.
func (t *Template) DeadLetterQueues() map[string][]string {
	out := map[string][]string{}
	add := func(arn, why string) {
		if id, attr, ok := Ref(arn); ok && attr == "Arn" && t.types[id] == TypeQueue {
			out[id] = append(out[id], why)
		}
	}
	for _, q := range t.ofType(TypeQueue) {
		add(Value(at(t.resources[q], "Properties", "RedrivePolicy", "deadLetterTargetArn")), q+" RedrivePolicy")
	}
	for _, s := range t.ScheduleTargets() {
		add(s.DeadLetterArn, s.FunctionID+"."+s.EventID+" DeadLetterConfig")
	}
	for _, fn := range t.ofType(typeFunction) {
		p := get(t.resources[fn], "Properties")
		add(Value(at(p, "DeadLetterQueue", "TargetArn")), fn+" DeadLetterQueue")
		add(Value(at(p, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination")), fn+" EventInvokeConfig OnFailure")
	}
	return out
}

// DependsOn returns resource id's DependsOn (one or a list).
func (t *Template) DependsOn(id string) []string {
	var out []string
	for _, n := range scalarOrSeq(get(t.resources[id], "DependsOn")) {
		out = append(out, str(n))
	}
	return out
}

// Mentions reports whether resource id's Metadata or Properties name
// logical id other with !Ref, !GetAtt or ${...} in a !Sub: CloudFormation
// then creates other first.
func (t *Template) Mentions(id, other string) bool {
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		n = deref(n)
		if n == nil {
			return false
		}
		if in, ok := intrinsic(n); ok {
			switch in.Fn {
			case "Ref":
				if in.Arg == other {
					return true
				}
			case "Fn::GetAtt":
				if strings.HasPrefix(in.Arg+".", other+".") {
					return true
				}
			case "Fn::Sub":
				if strings.Contains(in.Arg, "${"+other+"}") || strings.Contains(in.Arg, "${"+other+".") {
					return true
				}
			}
		}
		for _, c := range n.Content {
			if walk(c) {
				return true
			}
		}
		return false
	}
	r := t.resources[id]
	return walk(get(r, "Metadata")) || walk(get(r, "Properties"))
}

// Parameter returns a parameter's key, rendered by [Value] ("" if absent),
// e.g. Parameter("LogRetentionDays", "Default").
func (t *Template) Parameter(name, key string) string {
	return Value(at(t.root, "Parameters", name, key))
}

// ParameterList returns a parameter's list key (AllowedValues) as strings.
func (t *Template) ParameterList(name, key string) []string {
	var out []string
	for _, n := range seq(at(t.root, "Parameters", name, key)) {
		out = append(out, str(n))
	}
	return out
}

// Global returns a value under Globals, rendered by [Value], e.g.
// Global("Function", "Tracing").
func (t *Template) Global(keys ...string) string {
	return Value(at(get(t.root, "Globals"), keys...))
}

// Statements returns the Statement list of resource id's
// Properties.PolicyDocument (a queue or topic policy) as generic values.
func (t *Template) Statements(id string) []map[string]any {
	var out []map[string]any
	for _, s := range seq(at(t.resources[id], "Properties", "PolicyDocument", "Statement")) {
		if m, ok := plain(s).(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// plain turns a node into maps, slices and strings, intrinsics rendered by
// [Value].
func plain(n *yaml.Node) any {
	n = deref(n)
	if _, ok := intrinsic(n); ok {
		return Value(n)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = plain(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		var s []any
		for _, c := range n.Content {
			s = append(s, plain(c))
		}
		return s
	}
	return n.Value
}
