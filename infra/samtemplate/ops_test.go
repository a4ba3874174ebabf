package samtemplate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/guestaccess/guestaccess/shared/platform/metrics"
)

// The checks below read template.yaml generically: every function, queue,
// schedule and alarm the template has, whoever added it, must be wired for
// operation (issue 17, section 2; docs/operating.md).

// knownMetrics are the metrics an alarm may read, by namespace: a typo
// reads a metric nothing publishes, and the alarm never fires.
var knownMetrics = map[string][]string{
	"AWS/Lambda":      {"Errors", "Throttles", "Invocations", "Duration", "ConcurrentExecutions"},
	"AWS/SQS":         {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesNotVisible", "NumberOfMessagesSent", "NumberOfMessagesReceived"},
	"AWS/ApiGateway":  {"5XXError", "4XXError", "Count", "Latency", "IntegrationLatency"},
	"AWS/WAFV2":       {"BlockedRequests", "AllowedRequests", "CountedRequests"},
	"AWS/SES":         {"Reputation.BounceRate", "Reputation.ComplaintRate", "Send", "Delivery", "Bounce", "Complaint"},
	metrics.Namespace: metrics.Names,
}

// accessLogFields are the $context variables the API's access log must
// carry: request ids, caller, principal, route, status, latencies, WAF's
// verdict and the error.
var accessLogFields = []string{"$context.requestId", "$context.extendedRequestId", "$context.identity.sourceIp",
	"$context.authorizer.principalId", "$context.httpMethod", "$context.resourcePath", "$context.status",
	"$context.responseLatency", "$context.integrationLatency", "$context.wafResponseCode", "$context.error.message"}

// opsProblems lists what in tpl is not wired for operation.
func opsProblems(tpl *Template) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	functions := tpl.ResourceIDs(typeFunction)
	alarms, err := tpl.Alarms()
	if err != nil {
		return []string{err.Error()}
	}

	// Log groups: one per function, created by the stack, with the
	// retention parameter; JSON logs; tracing.
	if d, vals := tpl.Parameter("LogRetentionDays", "Default"), tpl.ParameterList("LogRetentionDays", "AllowedValues"); d != "30" || !slices.Contains(vals, "30") || !slices.Contains(vals, "3653") || len(vals) != 22 {
		bad("parameter LogRetentionDays: default %q, AllowedValues %v; want 30 and CloudWatch's 22 values", d, vals)
	}
	usedBy := map[string]string{}
	for _, fn := range functions {
		lg := tpl.Logging(fn)
		group, _, isRef := Ref(lg.LogGroup)
		if !isRef || strings.HasPrefix(lg.LogGroup, "!GetAtt") {
			bad("function %s has no LoggingConfig.LogGroup: !Ref <its log group>", fn)
		} else if tpl.ResourceType(group) != TypeLogGroup {
			bad("function %s: its log group %s is not an %s of the template", fn, group, TypeLogGroup)
		} else {
			if other, dup := usedBy[group]; dup {
				bad("log group %s serves both %s and %s", group, other, fn)
			}
			usedBy[group] = fn
			if r := tpl.Property(group, "RetentionInDays"); r != "!Ref LogRetentionDays" {
				bad("log group %s of %s: RetentionInDays %q, want !Ref LogRetentionDays", group, fn, r)
			}
			if tpl.Mentions(group, fn) {
				bad("log group %s names its function %s (a cycle: the function names its group)", group, fn)
			}
			// Lambda's own group is /aws/lambda/<function name>, and a
			// function name holds no "/": a name with one more "/" after
			// the prefix never clashes with it.
			if name := tpl.Property(group, "LogGroupName"); strings.HasPrefix(strings.TrimPrefix(name, "!Sub "), "/aws/lambda/") && !strings.Contains(strings.TrimPrefix(name, "!Sub /aws/lambda/"), "/") {
				bad("log group %s is named %q: it may clash with the group Lambda creates itself", group, name)
			}
		}
		if lg.LogFormat != "JSON" {
			bad("function %s logs %q, want JSON", fn, lg.LogFormat)
		}
		if lg.Tracing != "Active" {
			bad("function %s: Tracing %q, want Active", fn, lg.Tracing)
		}
	}

	// The API: access log, tracing, stage-wide throttling, the account's
	// CloudWatch role set before the stage.
	for _, api := range tpl.ResourceIDs(typeAPI) {
		if v := tpl.Property(api, "TracingEnabled"); v != "true" {
			bad("API %s: TracingEnabled %q, want true", api, v)
		}
		group, attr, ok := Ref(tpl.Property(api, "AccessLogSetting", "DestinationArn"))
		if !ok || attr != "Arn" || tpl.ResourceType(group) != TypeLogGroup {
			bad("API %s has no AccessLogSetting.DestinationArn: !GetAtt <log group>.Arn", api)
		} else if r := tpl.Property(group, "RetentionInDays"); r != "!Ref LogRetentionDays" {
			bad("access log group %s: RetentionInDays %q, want !Ref LogRetentionDays", group, r)
		}
		format := tpl.Property(api, "AccessLogSetting", "Format")
		var fields map[string]string
		if err := json.Unmarshal([]byte(format), &fields); err != nil {
			bad("API %s: the access log's Format is not a JSON object: %v", api, err)
		}
		for _, f := range accessLogFields {
			if !slices.Contains(slices.Collect(mapValues(fields)), f) {
				bad("API %s: the access log has no %s", api, f)
			}
		}
		ready := false
		for _, account := range tpl.ResourceIDs("AWS::ApiGateway::Account") {
			for _, dep := range tpl.DependsOn(api) {
				ready = ready || dep == account || tpl.Mentions(dep, account)
			}
		}
		if !ready {
			bad("API %s: its stage does not wait for an AWS::ApiGateway::Account (the access log's CloudWatch role)", api)
		}
		throttles, err := tpl.MethodThrottles(api)
		stage := false
		for _, s := range seq(at(tpl.resources[api], "Properties", "MethodSettings")) {
			if str(get(s, "ResourcePath")) == "/*" && str(get(s, "HttpMethod")) == "*" {
				stage = Value(get(s, "ThrottlingRateLimit")) == "!Ref ApiRateLimit" && Value(get(s, "ThrottlingBurstLimit")) == "!Ref ApiBurstLimit"
			}
		}
		if err != nil || !stage {
			bad("API %s: no stage-wide throttle (MethodSettings /* * with !Ref ApiRateLimit and ApiBurstLimit): %v %v", api, throttles, err)
		}
	}

	// The table cannot be deleted by accident.
	for _, table := range tpl.TableLogicalIDs() {
		if v := tpl.Property(table, "DeletionProtectionEnabled"); v != "true" {
			bad("table %s: DeletionProtectionEnabled %q, want true", table, v)
		}
	}

	// The topic every alarm tells, and the AlarmEmail subscription.
	if tpl.ResourceType("AlarmTopic") != "AWS::SNS::Topic" {
		bad("no AWS::SNS::Topic AlarmTopic")
	}
	subscribed := false
	for _, s := range tpl.ResourceIDs("AWS::SNS::Subscription") {
		subscribed = subscribed || tpl.Property(s, "TopicArn") == "!Ref AlarmTopic" && tpl.Property(s, "Endpoint") == "!Ref AlarmEmail" && tpl.ResourceCondition(s) != ""
	}
	if !subscribed || tpl.Parameter("AlarmEmail", "Default") != "" || tpl.Parameter("AlarmEmail", "Type") != "String" {
		bad("AlarmEmail: want a String parameter, default empty, and a conditional subscription of it to AlarmTopic")
	}

	// Every alarm: actions to AlarmTopic, and metrics that exist on a
	// resource of the stack.
	for _, a := range alarms {
		if !slices.Contains(a.AlarmActions, "!Ref AlarmTopic") || !slices.Contains(a.OKActions, "!Ref AlarmTopic") {
			bad("alarm %s: AlarmActions %v, OKActions %v; want !Ref AlarmTopic in both", a.LogicalID, a.AlarmActions, a.OKActions)
		}
		for _, m := range a.Metrics {
			if err := tpl.checkMetric(a, m); err != nil {
				bad("alarm %s: %v", a.LogicalID, err)
			}
		}
	}
	lambdaAlarm := func(fn, metric string, ok func(Alarm) bool) bool {
		for _, a := range alarms {
			for _, m := range a.Metrics {
				if m.Namespace == "AWS/Lambda" && m.MetricName == metric && m.Dimensions["FunctionName"] == "!Ref "+fn && ok(a) {
					return true
				}
			}
		}
		return false
	}
	overZero := func(a Alarm) bool { return a.ComparisonOperator == "GreaterThanThreshold" && a.Threshold == "0" }
	for _, fn := range functions {
		for _, metric := range []string{"Errors", "Throttles"} {
			if !lambdaAlarm(fn, metric, overZero) {
				bad("function %s has no %s alarm (AWS/Lambda %s, FunctionName !Ref %s, > 0)", fn, metric, metric, fn)
			}
		}
	}

	// Every dead-letter queue has an alarm on a message in it.
	dlqs := tpl.DeadLetterQueues()
	for _, q := range tpl.ResourceIDs(TypeQueue) {
		if strings.HasSuffix(tpl.Property(q, "QueueName"), "-dlq") && dlqs[q] == nil {
			dlqs[q] = []string{"its name"}
		}
	}
	for q, why := range dlqs {
		found := false
		for _, a := range alarms {
			for _, m := range a.Metrics {
				found = found || m.Namespace == "AWS/SQS" && m.MetricName == "ApproximateNumberOfMessagesVisible" && m.Dimensions["QueueName"] == "!GetAtt "+q+".QueueName" && overZero(a)
			}
		}
		if !found {
			bad("dead-letter queue %s (%s) has no alarm on ApproximateNumberOfMessagesVisible > 0", q, strings.Join(why, ", "))
		}
	}

	// Schedules: a retry policy, a dead-letter queue EventBridge may write
	// to, and an alarm when the function stops running.
	schedules, err := tpl.Schedules()
	if err != nil {
		bad("%v", err)
	}
	for _, s := range tpl.ScheduleTargets() {
		if s.MaximumRetryAttempts == "" || s.MaximumEventAgeInSeconds == "" {
			bad("schedule %s.%s has no RetryPolicy (MaximumRetryAttempts, MaximumEventAgeInSeconds)", s.FunctionID, s.EventID)
		}
		q, attr, ok := Ref(s.DeadLetterArn)
		if !ok || attr != "Arn" || tpl.ResourceType(q) != TypeQueue {
			bad("schedule %s.%s has no DeadLetterConfig.Arn naming a queue of the template", s.FunctionID, s.EventID)
		} else if !tpl.eventsMaySend(q, s.FunctionID+s.EventID) {
			bad("schedule %s.%s: no queue policy lets events.amazonaws.com send to %s from rule %s", s.FunctionID, s.EventID, q, s.FunctionID+s.EventID)
		}
		var every time.Duration
		for _, sc := range schedules {
			if sc.FunctionID == s.FunctionID && sc.EventID == s.EventID {
				every = sc.Every
			}
		}
		notRunning := lambdaAlarm(s.FunctionID, "Invocations", func(a Alarm) bool {
			window := tpl.seconds(a.Metrics[0].Period) * tpl.seconds(a.EvaluationPeriods)
			return a.ComparisonOperator == "LessThanThreshold" && a.Threshold == "1" && a.TreatMissingData == "breaching" &&
				time.Duration(window)*time.Second > every
		})
		if !notRunning {
			bad("scheduled function %s has no not-running alarm (Invocations < 1 over more than %v, missing data breaching)", s.FunctionID, every)
		}
	}

	// Queue consumers: a ceiling on their concurrency.
	for _, e := range tpl.SQSEvents() {
		if n := tpl.number(e.MaximumConcurrency, "MinValue"); n < 2 {
			bad("SQS event %s.%s: ScalingConfig.MaximumConcurrency %q, want 2 or more", e.FunctionID, e.EventID, e.MaximumConcurrency)
		}
	}

	// The dashboard shows every alarm's metric and each function's errors
	// and throttles.
	out = append(out, tpl.dashboardProblems(functions, alarms)...)
	slices.Sort(out)
	return out
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// seconds resolves a number or a !Ref to a parameter's default.
func (t *Template) seconds(v string) int {
	return t.number(v, "Default")
}

// number resolves a literal number, or a !Ref to a Number parameter by its
// key (Default, or MinValue: the least a deployment may set); -1 if neither.
func (t *Template) number(v, key string) int {
	if p, ok := strings.CutPrefix(v, "!Ref "); ok {
		if key == "MinValue" && t.Parameter(p, "MinValue") == "" {
			key = "Default"
		}
		v = t.Parameter(p, key)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// eventsMaySend reports whether a queue policy lets EventBridge's rule
// (SAM's logical id <function><event>) send to queue q.
func (t *Template) eventsMaySend(q, rule string) bool {
	for _, p := range t.ResourceIDs("AWS::SQS::QueuePolicy") {
		var queues []string
		for _, n := range seq(at(t.resources[p], "Properties", "Queues")) {
			queues = append(queues, Value(n))
		}
		if !slices.Contains(queues, "!Ref "+q) {
			continue
		}
		for _, st := range t.Statements(p) {
			principal, _ := st["Principal"].(map[string]any)
			cond := fmt.Sprint(st["Condition"])
			if st["Effect"] == "Allow" && principal["Service"] == "events.amazonaws.com" && fmt.Sprint(st["Action"]) == "sqs:SendMessage" &&
				st["Resource"] == "!GetAtt "+q+".Arn" && strings.Contains(cond, "!GetAtt "+rule+".Arn") {
				return true
			}
		}
	}
	return false
}

// checkMetric reports whether metric m of alarm a exists on a resource of
// the stack: its name is one its namespace publishes, and its dimensions
// name real resources (with the alarm under the same condition).
func (t *Template) checkMetric(a Alarm, m MetricRef) error {
	if !slices.Contains(knownMetrics[m.Namespace], m.MetricName) {
		return fmt.Errorf("metric %s %s is not one this stack publishes", m.Namespace, m.MetricName)
	}
	dims := slices.Sorted(func(yield func(string) bool) {
		for k := range m.Dimensions {
			if !yield(k) {
				return
			}
		}
	})
	want := func(names ...string) error {
		if !slices.Equal(dims, names) {
			return fmt.Errorf("%s %s: dimensions %v, want %v", m.Namespace, m.MetricName, dims, names)
		}
		return nil
	}
	sameCondition := func(id string) error {
		if c := t.ResourceCondition(id); c != a.Condition {
			return fmt.Errorf("%s has Condition %q, the alarm %q", id, c, a.Condition)
		}
		return nil
	}
	switch m.Namespace {
	case "AWS/Lambda", metrics.Namespace:
		key := map[string]string{"AWS/Lambda": "FunctionName", metrics.Namespace: "Function"}[m.Namespace]
		if err := want(key); err != nil {
			return err
		}
		fn, attr, ok := Ref(m.Dimensions[key])
		if !ok || attr != "" || t.types[fn] != typeFunction {
			return fmt.Errorf("%s %s: %s %q names no function of the template", m.Namespace, m.MetricName, key, m.Dimensions[key])
		}
		return sameCondition(fn)
	case "AWS/SQS":
		if err := want("QueueName"); err != nil {
			return err
		}
		q, attr, ok := Ref(m.Dimensions["QueueName"])
		if !ok || attr != "QueueName" || t.types[q] != TypeQueue {
			return fmt.Errorf("SQS %s: QueueName %q is not !GetAtt <queue>.QueueName", m.MetricName, m.Dimensions["QueueName"])
		}
		return sameCondition(q)
	case "AWS/ApiGateway":
		if err := want("ApiName", "Stage"); err != nil {
			return err
		}
		for _, api := range t.ResourceIDs(typeAPI) {
			name := t.Property(api, "Name")
			if name == "" {
				name = "!Ref AWS::StackName" // SAM titles an unnamed API after the stack
			}
			if m.Dimensions["ApiName"] == name && m.Dimensions["Stage"] == t.Property(api, "StageName") {
				return sameCondition(api)
			}
		}
		return fmt.Errorf("ApiGateway %s: ApiName %q, Stage %q name no API of the template", m.MetricName, m.Dimensions["ApiName"], m.Dimensions["Stage"])
	case "AWS/WAFV2":
		if err := want("Region", "Rule", "WebACL"); err != nil {
			return err
		}
		if m.Dimensions["Region"] != "!Ref AWS::Region" {
			return fmt.Errorf("WAFV2: Region %q, want !Ref AWS::Region", m.Dimensions["Region"])
		}
		for _, acl := range t.ResourceIDs("AWS::WAFv2::WebACL") {
			if t.Property(acl, "VisibilityConfig", "MetricName") != m.Dimensions["WebACL"] {
				continue
			}
			for _, r := range seq(at(t.resources[acl], "Properties", "Rules")) {
				cond, rule := "", r
				if c, then, ok := ifOrNoValue(r); ok {
					cond, rule = c, then
				}
				if Value(at(rule, "VisibilityConfig", "MetricName")) == m.Dimensions["Rule"] {
					if cond == "" {
						cond = t.ResourceCondition(acl)
					}
					if cond != a.Condition {
						return fmt.Errorf("WAF rule %s exists under Condition %q, the alarm under %q", m.Dimensions["Rule"], cond, a.Condition)
					}
					return nil
				}
			}
		}
		return fmt.Errorf("WAFV2: no web ACL %q with rule %q in the template", m.Dimensions["WebACL"], m.Dimensions["Rule"])
	case "AWS/SES":
		// Reputation is the account's (no dimension); sending events may be
		// a configuration set's.
		if len(dims) == 0 {
			return nil
		}
		if err := want("ses:configuration-set"); err != nil {
			return err
		}
		if id, _, ok := Ref(m.Dimensions["ses:configuration-set"]); !ok || t.types[id] != "AWS::SES::ConfigurationSet" {
			return fmt.Errorf("SES %s: configuration set %q is not one of the template", m.MetricName, m.Dimensions["ses:configuration-set"])
		}
	}
	return nil
}

// dashboardMetric renders a metric as a dashboard's metrics line starts:
// namespace, name, then each dimension's name and value, with !Ref X and
// !GetAtt X.Y as !Sub writes them (${X}, ${X.Y}).
func dashboardMetric(m MetricRef) string {
	parts := []string{m.Namespace, m.MetricName}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range m.Dimensions {
			if !yield(k) {
				return
			}
		}
	}) {
		v := m.Dimensions[k]
		if id, attr, ok := Ref(v); ok {
			v = "${" + id + map[bool]string{true: "", false: "." + attr}[attr == ""] + "}"
		} else if v == "!Ref AWS::StackName" || v == "!Ref AWS::Region" {
			v = "${" + strings.TrimPrefix(v, "!Ref ") + "}"
		}
		parts = append(parts, k, v)
	}
	return strings.Join(parts, " ")
}

var subRef = regexp.MustCompile(`^\$\{([A-Za-z0-9:]+)\}$`)

// dashboardProblems checks the dashboard: one, a !Sub of a JSON body that
// parses, showing each function's Errors and Throttles and every alarm's
// metrics.
func (t *Template) dashboardProblems(functions []string, alarms []Alarm) []string {
	boards := t.ResourceIDs(TypeDashboard)
	if len(boards) != 1 {
		return []string{fmt.Sprintf("dashboards %v: want one", boards)}
	}
	body, ok := strings.CutPrefix(t.Property(boards[0], "DashboardBody"), "!Sub ")
	var doc struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if !ok || json.Unmarshal([]byte(body), &doc) != nil {
		return []string{fmt.Sprintf("dashboard %s: DashboardBody is not a !Sub of a JSON document", boards[0])}
	}
	shown := map[string]bool{}
	for _, w := range doc.Widgets {
		for _, line := range w.Properties.Metrics {
			if len(line) < 2 {
				continue
			}
			ns, _ := line[0].(string)
			name, _ := line[1].(string)
			m := MetricRef{Namespace: ns, MetricName: name, Dimensions: map[string]string{}}
			for i := 2; i+1 < len(line); i += 2 {
				k, _ := line[i].(string)
				v, _ := line[i+1].(string)
				if sub := subRef.FindStringSubmatch(v); sub != nil {
					if id, attr, dotted := strings.Cut(sub[1], "."); dotted {
						v = "!GetAtt " + id + "." + attr
					} else {
						v = "!Ref " + sub[1]
					}
				}
				m.Dimensions[k] = v
			}
			shown[dashboardMetric(m)] = true
		}
	}
	var out []string
	for _, fn := range functions {
		for _, metric := range []string{"Errors", "Throttles"} {
			if m := (MetricRef{Namespace: "AWS/Lambda", MetricName: metric, Dimensions: map[string]string{"FunctionName": "!Ref " + fn}}); !shown[dashboardMetric(m)] {
				out = append(out, fmt.Sprintf("dashboard %s does not show %s's %s", boards[0], fn, metric))
			}
		}
	}
	for _, a := range alarms {
		for _, m := range a.Metrics {
			if !shown[dashboardMetric(m)] {
				out = append(out, fmt.Sprintf("dashboard %s does not show alarm %s's metric %s", boards[0], a.LogicalID, dashboardMetric(m)))
			}
		}
	}
	return out
}

// TestRepoTemplateOperable: template.yaml is wired for operation, every
// function, queue, schedule and alarm of it (see opsProblems).
func TestRepoTemplateOperable(t *testing.T) {
	tpl := repoTemplate(t)
	for _, p := range opsProblems(tpl) {
		t.Error(p)
	}
	alarms, _ := tpl.Alarms()
	t.Logf("%d functions, %d alarms, %d dead-letter queues, %d schedules, %d SQS events checked",
		len(tpl.ResourceIDs(typeFunction)), len(alarms), len(tpl.DeadLetterQueues()), len(tpl.ScheduleTargets()), len(tpl.SQSEvents()))
}

// TestOpsChecksCatchRemovals: each check of opsProblems fails when one
// item is taken out of template.yaml (or a new function, queue and
// dead-letter queue come in unwired), naming what is missing.
func TestOpsChecksCatchRemovals(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	resource := func(root *yaml.Node, id string) *yaml.Node { return get(get(root, "Resources"), id) }
	props := func(root *yaml.Node, id string, keys ...string) *yaml.Node {
		return at(resource(root, id), append([]string{"Properties"}, keys...)...)
	}
	event := func(root *yaml.Node, fn, ev string) *yaml.Node { return props(root, fn, "Events", ev, "Properties") }
	for _, c := range []struct {
		name   string
		change func(root *yaml.Node)
		want   string
	}{
		{"a function's log group removed", func(r *yaml.Node) { del(get(r, "Resources"), "AuditFunctionLogGroup") },
			"function AuditFunction: its log group AuditFunctionLogGroup is not an AWS::Logs::LogGroup"},
		{"a function's LoggingConfig removed", func(r *yaml.Node) { del(props(r, "RolesFunction"), "LoggingConfig") },
			"function RolesFunction has no LoggingConfig.LogGroup"},
		{"a log group's retention removed", func(r *yaml.Node) { del(props(r, "VerifyFunctionLogGroup"), "RetentionInDays") },
			"log group VerifyFunctionLogGroup of VerifyFunction: RetentionInDays \"\""},
		{"a log group named after its function", func(r *yaml.Node) {
			set(props(r, "UsersFunctionLogGroup"), "LogGroupName", "/aws/lambda/${UsersFunction}", "!Sub")
		}, "log group UsersFunctionLogGroup names its function UsersFunction"},
		{"JSON logs removed", func(r *yaml.Node) { del(at(r, "Globals", "Function", "LoggingConfig"), "LogFormat") },
			"function ApiTokensFunction logs \"\", want JSON"},
		{"function tracing removed", func(r *yaml.Node) { del(at(r, "Globals", "Function"), "Tracing") },
			"function AuthorizerFunction: Tracing \"\", want Active"},
		{"API tracing removed", func(r *yaml.Node) { del(props(r, "Api"), "TracingEnabled") }, "API Api: TracingEnabled \"\""},
		{"access log removed", func(r *yaml.Node) { del(props(r, "Api"), "AccessLogSetting") }, "API Api has no AccessLogSetting"},
		{"WAF action left out of the access log", func(r *yaml.Node) {
			f := props(r, "Api", "AccessLogSetting", "Format")
			f.Value = strings.ReplaceAll(f.Value, "$context.wafResponseCode", "")
		}, "API Api: the access log has no $context.wafResponseCode"},
		{"the account's CloudWatch role not awaited", func(r *yaml.Node) { del(resource(r, "Api"), "DependsOn") },
			"does not wait for an AWS::ApiGateway::Account"},
		{"stage-wide throttle removed", func(r *yaml.Node) {
			ms := props(r, "Api", "MethodSettings")
			ms.Content = ms.Content[:len(ms.Content)-1]
		}, "API Api: no stage-wide throttle"},
		{"table deletion protection removed", func(r *yaml.Node) { del(props(r, "Table"), "DeletionProtectionEnabled") },
			"table Table: DeletionProtectionEnabled \"\""},
		{"a function's Errors alarm removed", func(r *yaml.Node) { del(get(r, "Resources"), "SpacesFunctionErrorsAlarm") },
			"function SpacesFunction has no Errors alarm"},
		{"a function's Throttles alarm removed", func(r *yaml.Node) { del(get(r, "Resources"), "BillingFunctionThrottlesAlarm") },
			"function BillingFunction has no Throttles alarm"},
		{"an alarm's OKActions removed", func(r *yaml.Node) { del(props(r, "SesBounceRateAlarm"), "OKActions") },
			"alarm SesBounceRateAlarm: AlarmActions [!Ref AlarmTopic], OKActions []"},
		{"the WAF alarm's actions removed", func(r *yaml.Node) { del(props(r, "PublicRoutesPerIpBlockedAlarm"), "AlarmActions") },
			"alarm PublicRoutesPerIpBlockedAlarm: AlarmActions []"},
		{"AlarmTopic removed", func(r *yaml.Node) { del(get(r, "Resources"), "AlarmTopic") }, "no AWS::SNS::Topic AlarmTopic"},
		{"AlarmEmail subscription removed", func(r *yaml.Node) { del(get(r, "Resources"), "AlarmEmailSubscription") }, "AlarmEmail: want"},
		{"an alarm on a function that does not exist", func(r *yaml.Node) {
			set(seq(props(r, "AuditFunctionErrorsAlarm", "Dimensions"))[0], "Value", "AuditFunktion", "!Ref")
		}, "alarm AuditFunctionErrorsAlarm: AWS/Lambda Errors: FunctionName \"!Ref AuditFunktion\" names no function"},
		{"an alarm on a metric nobody publishes", func(r *yaml.Node) { set(props(r, "GroupJobFailedAlarm"), "MetricName", "JobsFailed", "") },
			"alarm GroupJobFailedAlarm: metric GuestAccess JobsFailed is not one this stack publishes"},
		{"an alarm on a queue by name instead of GetAtt", func(r *yaml.Node) {
			set(seq(props(r, "ExportStuckAlarm", "Dimensions"))[0], "Value", "guestaccess-external-exports", "")
		}, "alarm ExportStuckAlarm: SQS ApproximateAgeOfOldestMessage: QueueName"},
		{"the API alarm on another stage", func(r *yaml.Node) {
			d := seq(at(seq(props(r, "ApiServerErrorRateAlarm", "Metrics"))[1], "MetricStat", "Metric", "Dimensions"))[1]
			set(d, "Value", "prod", "")
		}, "alarm ApiServerErrorRateAlarm: ApiGateway 5XXError: ApiName \"!Ref AWS::StackName\", Stage \"prod\" name no API"},
		{"the WAF alarm without the rule's condition", func(r *yaml.Node) { del(resource(r, "PublicRoutesPerIpBlockedAlarm"), "Condition") },
			"WAF rule public-routes-per-ip exists under Condition \"HasRateRule\", the alarm under \"\""},
		{"a dead-letter queue's alarm removed", func(r *yaml.Node) { del(get(r, "Resources"), "ExportsDeadLetterQueueAlarm") },
			"dead-letter queue ExportsDeadLetterQueue (ExportsQueue RedrivePolicy) has no alarm"},
		{"the schedules' dead-letter queue's alarm removed", func(r *yaml.Node) { del(get(r, "Resources"), "ScheduleDeadLetterQueueAlarm") },
			"dead-letter queue ScheduleDeadLetterQueue (DomainCheckFunction.DomainCheck DeadLetterConfig"},
		{"a schedule's retry policy removed", func(r *yaml.Node) { del(event(r, "ReverifyFunction", "Reverify"), "RetryPolicy") },
			"schedule ReverifyFunction.Reverify has no RetryPolicy"},
		{"a schedule's dead-letter queue removed", func(r *yaml.Node) {
			del(event(r, "RetryInvitationEmailsFunction", "EveryFiveMinutes"), "DeadLetterConfig")
		}, "schedule RetryInvitationEmailsFunction.EveryFiveMinutes has no DeadLetterConfig.Arn"},
		{"the schedules' queue policy removed", func(r *yaml.Node) { del(get(r, "Resources"), "ScheduleDeadLetterQueuePolicy") },
			"schedule DomainCheckFunction.DomainCheck: no queue policy lets events.amazonaws.com send"},
		{"a not-running alarm removed", func(r *yaml.Node) { del(get(r, "Resources"), "DomainCheckFunctionNotRunningAlarm") },
			"scheduled function DomainCheckFunction has no not-running alarm"},
		{"a not-running alarm's window shorter than the schedule", func(r *yaml.Node) {
			set(props(r, "RetryInvitationEmailsFunctionNotRunningAlarm"), "Period", "240", "")
		}, "scheduled function RetryInvitationEmailsFunction has no not-running alarm (Invocations < 1 over more than 5m0s"},
		{"a queue consumer's MaximumConcurrency removed", func(r *yaml.Node) { del(event(r, "ExportWorkerFunction", "Pages"), "ScalingConfig") },
			"SQS event ExportWorkerFunction.Pages: ScalingConfig.MaximumConcurrency \"\""},
		{"a function left off the dashboard", func(r *yaml.Node) {
			b := props(r, "Dashboard", "DashboardBody")
			b.Value = strings.Replace(b.Value, `["AWS/Lambda","Throttles","FunctionName","${AuditFunction}",{"label":"AuditFunction"}],`, "", 1)
		}, "dashboard Dashboard does not show AuditFunction's Throttles"},
		{"an alarm's metric left off the dashboard", func(r *yaml.Node) {
			b := props(r, "Dashboard", "DashboardBody")
			b.Value = strings.Replace(b.Value, `["AWS/SES","Reputation.ComplaintRate"]`, `["AWS/SES","Reputation.BounceRate"]`, 1)
		}, "dashboard Dashboard does not show alarm SesComplaintRateAlarm's metric"},
		{"a new function, queue and dead-letter queue, unwired", func(r *yaml.Node) {
			var extra yaml.Node
			if err := yaml.Unmarshal([]byte(newUnwiredResources), &extra); err != nil {
				t.Fatal(err)
			}
			res := get(r, "Resources")
			res.Content = append(res.Content, extra.Content[0].Content...)
		}, "function MailSenderFunction has no LoggingConfig.LogGroup|function MailSenderFunction has no Errors alarm|" +
			"function MailSenderFunction has no Throttles alarm|dead-letter queue MailDeadLetterQueue (MailQueue RedrivePolicy) has no alarm|" +
			"SQS event MailSenderFunction.Mail: ScalingConfig.MaximumConcurrency \"\"|dashboard Dashboard does not show MailSenderFunction's Errors"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal(src, &doc); err != nil {
				t.Fatal(err)
			}
			c.change(doc.Content[0])
			b, err := yaml.Marshal(&doc)
			if err != nil {
				t.Fatal(err)
			}
			tpl, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			problems := strings.Join(opsProblems(tpl), "\n")
			t.Logf("problems:\n%s", problems)
			for _, want := range strings.Split(c.want, "|") {
				if !strings.Contains(problems, want) {
					t.Errorf("no problem %q; got:\n%s", want, problems)
				}
			}
		})
	}
}

// newUnwiredResources is what another change might add without its
// operations: a function consuming a queue with a dead-letter queue.
const newUnwiredResources = `
MailQueue:
  Type: AWS::SQS::Queue
  Properties:
    RedrivePolicy: {deadLetterTargetArn: !GetAtt MailDeadLetterQueue.Arn, maxReceiveCount: 5}
MailDeadLetterQueue:
  Type: AWS::SQS::Queue
MailSenderFunction:
  Type: AWS::Serverless::Function
  Properties:
    CodeUri: .
    Events:
      Mail:
        Type: SQS
        Properties: {Queue: !GetAtt MailQueue.Arn}
`

// del removes key from a mapping node.
func del(n *yaml.Node, key string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content = append(n.Content[:i], n.Content[i+2:]...)
			return
		}
	}
	panic("no key " + key)
}

// set sets key of a mapping node to a scalar, tagged (e.g. "!Ref") or not.
func set(n *yaml.Node, key, value, tag string) {
	v := &yaml.Node{Kind: yaml.ScalarNode, Value: value, Tag: tag}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content[i+1] = v
			return
		}
	}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}
