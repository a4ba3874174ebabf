package samtemplate

import (
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

func ref(n *yaml.Node) string {
	if in, ok := intrinsic(n); ok && in.Fn == "Ref" {
		return in.Arg
	}
	return ""
}

func getAtt(n *yaml.Node) string {
	if in, ok := intrinsic(n); ok && in.Fn == "Fn::GetAtt" {
		return in.Arg
	}
	return ""
}

// checkSESEvents holds the SES events path of a template to what makes it
// work and keeps it closed: every send names the configuration set; its
// event destination publishes bounces, complaints and deliveries to the
// topic; only SES, from this account and this configuration set, may
// publish there; only that topic may send to the queue (raw, so the body
// is SES's event); the queue has a dead-letter queue; the function consumes
// it reporting failed records alone. It returns what is wrong.
func checkSESEvents(tpl *Template) []string {
	var bad []string
	fail := func(s string) { bad = append(bad, s) }
	r := func(id, typ string) *yaml.Node {
		if tpl.types[id] != typ {
			fail(id + " is not a " + typ)
			return nil
		}
		return get(tpl.resources[id], "Properties")
	}
	if ref(at(tpl.root, "Globals", "Function", "Environment", "Variables", "SES_CONFIGURATION_SET")) != "SesConfigurationSet" {
		fail("Globals do not give every function SES_CONFIGURATION_SET: !Ref SesConfigurationSet")
	}
	r("SesConfigurationSet", "AWS::SES::ConfigurationSet")
	if d := r("SesConfigurationSetEventDestination", "AWS::SES::ConfigurationSetEventDestination"); d != nil {
		if ref(get(d, "ConfigurationSetName")) != "SesConfigurationSet" || ref(at(d, "EventDestination", "SnsDestination", "TopicARN")) != "SesEventsTopic" {
			fail("the event destination does not join SesConfigurationSet to SesEventsTopic")
		}
		var types []string
		for _, n := range seq(at(d, "EventDestination", "MatchingEventTypes")) {
			types = append(types, str(n))
		}
		for _, want := range []string{"bounce", "complaint", "delivery"} {
			if !slices.Contains(types, want) {
				fail("the event destination does not publish " + want)
			}
		}
	}
	if p := r("SesEventsTopicPolicy", "AWS::SNS::TopicPolicy"); p != nil {
		topics := seq(get(p, "Topics"))
		sts := seq(at(p, "PolicyDocument", "Statement"))
		if len(topics) != 1 || ref(topics[0]) != "SesEventsTopic" || len(sts) != 1 {
			fail("SesEventsTopicPolicy is not one statement on SesEventsTopic")
		} else {
			s := sts[0]
			if str(get(s, "Effect")) != "Allow" || str(at(s, "Principal", "Service")) != "ses.amazonaws.com" || str(get(s, "Action")) != "sns:Publish" ||
				ref(at(s, "Condition", "StringEquals", "AWS:SourceAccount")) != "AWS::AccountId" || at(s, "Condition", "ArnLike", "AWS:SourceArn") == nil {
				fail("SesEventsTopicPolicy does not limit sns:Publish to SES of this account and configuration set")
			}
		}
	}
	if p := r("SesEventsQueuePolicy", "AWS::SQS::QueuePolicy"); p != nil {
		queues := seq(get(p, "Queues"))
		sts := seq(at(p, "PolicyDocument", "Statement"))
		if len(queues) != 1 || ref(queues[0]) != "SesEventsQueue" || len(sts) != 1 {
			fail("SesEventsQueuePolicy is not one statement on SesEventsQueue")
		} else {
			s := sts[0]
			if str(get(s, "Effect")) != "Allow" || str(at(s, "Principal", "Service")) != "sns.amazonaws.com" || str(get(s, "Action")) != "sqs:SendMessage" ||
				ref(at(s, "Condition", "ArnEquals", "aws:SourceArn")) != "SesEventsTopic" {
				fail("SesEventsQueuePolicy does not limit sqs:SendMessage to SesEventsTopic")
			}
		}
	}
	if s := r("SesEventsSubscription", "AWS::SNS::Subscription"); s != nil {
		if ref(get(s, "TopicArn")) != "SesEventsTopic" || str(get(s, "Protocol")) != "sqs" || getAtt(get(s, "Endpoint")) != "SesEventsQueue.Arn" || str(get(s, "RawMessageDelivery")) != "true" {
			fail("SesEventsSubscription does not deliver SesEventsTopic raw to SesEventsQueue")
		}
	}
	if q := r("SesEventsQueue", "AWS::SQS::Queue"); q != nil && getAtt(at(q, "RedrivePolicy", "deadLetterTargetArn")) != "SesEventsDeadLetterQueue.Arn" {
		fail("SesEventsQueue has no dead-letter queue")
	}
	if f := r("SesEventsFunction", "AWS::Serverless::Function"); f != nil {
		ev := at(f, "Events", "SesEvents")
		if str(get(ev, "Type")) != "SQS" || getAtt(at(ev, "Properties", "Queue")) != "SesEventsQueue.Arn" ||
			len(seq(at(ev, "Properties", "FunctionResponseTypes"))) != 1 || str(seq(at(ev, "Properties", "FunctionResponseTypes"))[0]) != "ReportBatchItemFailures" {
			fail("SesEventsFunction does not consume SesEventsQueue with ReportBatchItemFailures")
		}
	}
	return bad
}

func TestRepoTemplateSESEvents(t *testing.T) {
	for _, b := range checkSESEvents(repoTemplate(t)) {
		t.Error(b)
	}
}

// Each guard of checkSESEvents fails on a template without it.
func TestCheckSESEventsCatchesAnOpenPath(t *testing.T) {
	for name, mutate := range map[string]func(tpl *Template){
		"queue open to any topic": func(tpl *Template) {
			s := seq(at(tpl.resources["SesEventsQueuePolicy"], "Properties", "PolicyDocument", "Statement"))[0]
			get(s, "Condition").Content = nil
		},
		"topic open to any account": func(tpl *Template) {
			s := seq(at(tpl.resources["SesEventsTopicPolicy"], "Properties", "PolicyDocument", "Statement"))[0]
			get(s, "Condition").Content = nil
		},
		"no configuration set on sends": func(tpl *Template) {
			vars := at(tpl.root, "Globals", "Function", "Environment", "Variables")
			for i := 0; i+1 < len(vars.Content); i += 2 {
				if vars.Content[i].Value == "SES_CONFIGURATION_SET" {
					vars.Content[i].Value = "SES_CONFIGURATION_SET_X"
				}
			}
		},
		"enveloped delivery": func(tpl *Template) {
			get(get(tpl.resources["SesEventsSubscription"], "Properties"), "RawMessageDelivery").Value = "false"
		},
	} {
		tpl := repoTemplate(t)
		mutate(tpl)
		if len(checkSESEvents(tpl)) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}
