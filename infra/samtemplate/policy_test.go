package samtemplate

import (
	"reflect"
	"testing"
)

func TestPolicyStatementsAndAllows(t *testing.T) {
	tpl := mustParse(t, `
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Sid: Table
              Effect: Allow
              Action:
                - dynamodb:BatchGetItem
                - dynamodb:Query
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: dynamodb:Query
              Resource:
                - !Sub "${Table.Arn}/index/GSI1"
                - Fn::Sub: "${Table.Arn}/index/GSI3"
            - Effect: Allow
              Action: "ses:Send*"
              Resource: "*"
              Condition:
                StringEquals:
                  ses:FromAddress: !Ref Sender
            - Effect: Allow
              Action: sqs:SendMessage
              Resource: !Sub ["${Q}", {Q: !GetAtt Queue.Arn}]
            - Effect: Deny
              Action: dynamodb:*
              Resource: !Sub "${Table.Arn}/index/GSI3"
`)
	sts := tpl.PolicyStatements("Fn")
	if len(sts) != 5 {
		t.Fatalf("statements: %+v", sts)
	}
	if want := []string{"${Table.Arn}/index/GSI1", "${Table.Arn}/index/GSI3"}; !reflect.DeepEqual(sts[1].Resources, want) {
		t.Errorf("resources %v, want %v", sts[1].Resources, want)
	}
	if !sts[2].Conditional || sts[3].Resources != nil {
		t.Errorf("statements 3, 4: %+v %+v", sts[2], sts[3])
	}
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"dynamodb:BatchGetItem", "${Table.Arn}", true},
		{"DynamoDB:batchgetitem", "${Table.Arn}", true},
		{"dynamodb:PutItem", "${Table.Arn}", false},
		{"dynamodb:Query", "${Table.Arn}", true},
		{"dynamodb:Query", "${Table.Arn}/index/GSI1", true},
		{"dynamodb:Query", "${Table.Arn}/index/GSI2", false},
		{"dynamodb:Query", "${Table.Arn}/index/GSI3", false}, // denied
		{"dynamodb:BatchGetItem", "${Table.Arn}/index/GSI1", false},
		{"ses:SendEmail", "arn:aws:ses:us-east-1:1:identity/a@b.example", true},
		{"sqs:SendMessage", "${Queue.Arn}", false}, // a list-form !Sub is not read
	} {
		if got := tpl.Allows("Fn", c.action, c.resource); got != c.want {
			t.Errorf("Allows(%s, %s) = %v, want %v", c.action, c.resource, got, c.want)
		}
	}
	if tpl.Allows("Nope", "dynamodb:Query", "${Table.Arn}") {
		t.Error("an unknown function is allowed")
	}
	for _, c := range []struct {
		p, s string
		want bool
	}{{"*", "", true}, {"a*c", "a/b/c", true}, {"a?c", "abc", true}, {"a?c", "ac", false}, {"a*", "b", false}, {"abc", "ab", false}} {
		if got := wildcard(c.p, c.s); got != c.want {
			t.Errorf("wildcard(%q, %q) = %v", c.p, c.s, got)
		}
	}
}
