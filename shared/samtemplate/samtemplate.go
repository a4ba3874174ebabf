// Package samtemplate reads template.yaml, the deployable truth, so that the
// local stack and the tests take the API routes and the table definition from
// it instead of restating them.
package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
)

// Template is a parsed SAM template.
type Template struct {
	resources map[string]*yaml.Node // logical id -> resource mapping node
	order     []string
}

// Route is one Api event of a function.
type Route struct {
	FunctionID string
	EventID    string
	Method     string // upper case
	Path       string // as in the template, e.g. /orgs/{orgId}/sites/{siteId}/invitations
	Public     bool   // Auth.Authorizer: NONE
}

// Function is a serverless function of the template.
type Function struct {
	LogicalID   string
	BuildMethod string
}

// Load reads and parses a template file.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse parses a template. CloudFormation short-form tags (!Ref, !GetAtt,
// !Sub, ...) are kept as tagged nodes.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("samtemplate: not a mapping document")
	}
	res := get(doc.Content[0], "Resources")
	if res == nil || res.Kind != yaml.MappingNode {
		return nil, errors.New("samtemplate: no Resources")
	}
	t := &Template{resources: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(res.Content); i += 2 {
		t.resources[res.Content[i].Value] = res.Content[i+1]
		t.order = append(t.order, res.Content[i].Value)
	}
	return t, nil
}

// get returns the value of key in a mapping node (nil if absent).
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func path(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = get(n, k)
	}
	return n
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func (t *Template) ofType(typ string) []string {
	var ids []string
	for _, id := range t.order {
		if scalar(get(t.resources[id], "Type")) == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Functions lists the template's serverless functions, sorted by logical id.
func (t *Template) Functions() []Function {
	var out []Function
	for _, id := range t.ofType("AWS::Serverless::Function") {
		out = append(out, Function{LogicalID: id, BuildMethod: scalar(path(t.resources[id], "Metadata", "BuildMethod"))})
	}
	return out
}

// Routes lists every Api event of every function, sorted by path then method.
func (t *Template) Routes() []Route {
	var out []Route
	for _, id := range t.ofType("AWS::Serverless::Function") {
		events := path(t.resources[id], "Properties", "Events")
		if events == nil || events.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(events.Content); i += 2 {
			ev := events.Content[i+1]
			if scalar(get(ev, "Type")) != "Api" {
				continue
			}
			p := get(ev, "Properties")
			out = append(out, Route{
				FunctionID: id,
				EventID:    events.Content[i].Value,
				Method:     strings.ToUpper(scalar(get(p, "Method"))),
				Path:       scalar(get(p, "Path")),
				Public:     scalar(path(p, "Auth", "Authorizer")) == "NONE",
			})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// DefaultAuthorizer returns the API's default authorizer and the logical id
// of the function behind it (from FunctionArn: !GetAtt X.Arn).
func (t *Template) DefaultAuthorizer() (name, functionID string) {
	for _, id := range t.ofType("AWS::Serverless::Api") {
		auth := path(t.resources[id], "Properties", "Auth")
		name = scalar(get(auth, "DefaultAuthorizer"))
		if name == "" {
			continue
		}
		arn := path(auth, "Authorizers", name, "FunctionArn")
		if arn != nil && arn.Tag == "!GetAtt" {
			functionID = strings.TrimSuffix(scalar(arn), ".Arn")
		} else if g := get(arn, "Fn::GetAtt"); g != nil && g.Kind == yaml.SequenceNode && len(g.Content) > 0 {
			functionID = g.Content[0].Value
		}
		return name, functionID
	}
	return "", ""
}

// TableLogicalIDs lists the DynamoDB tables of the template.
func (t *Template) TableLogicalIDs() []string { return t.ofType("AWS::DynamoDB::Table") }

// TableTTLAttribute returns the TTL attribute of a table, if enabled.
func (t *Template) TableTTLAttribute(logicalID string) (string, bool) {
	ttl := path(t.resources[logicalID], "Properties", "TimeToLiveSpecification")
	if ttl == nil || scalar(get(ttl, "Enabled")) != "true" {
		return "", false
	}
	return scalar(get(ttl, "AttributeName")), true
}

// TableInput builds the CreateTable request of a table resource under the
// given name: attributes, keys, indexes and billing mode, as declared.
func (t *Template) TableInput(logicalID, tableName string) (*dynamodb.CreateTableInput, error) {
	r := t.resources[logicalID]
	if r == nil || scalar(get(r, "Type")) != "AWS::DynamoDB::Table" {
		return nil, fmt.Errorf("samtemplate: no AWS::DynamoDB::Table %q", logicalID)
	}
	p := get(r, "Properties")
	in := &dynamodb.CreateTableInput{TableName: aws.String(tableName)}
	for _, a := range seq(get(p, "AttributeDefinitions")) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(scalar(get(a, "AttributeName"))),
			AttributeType: types.ScalarAttributeType(scalar(get(a, "AttributeType"))),
		})
	}
	in.KeySchema = keySchema(get(p, "KeySchema"))
	if len(in.KeySchema) == 0 || len(in.AttributeDefinitions) == 0 {
		return nil, fmt.Errorf("samtemplate: table %q has no key schema or attributes", logicalID)
	}
	provisioned := scalar(get(p, "BillingMode")) == "PROVISIONED"
	if provisioned {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = throughput(get(p, "ProvisionedThroughput"))
	} else {
		in.BillingMode = types.BillingModePayPerRequest
	}
	for _, g := range seq(get(p, "GlobalSecondaryIndexes")) {
		gsi := types.GlobalSecondaryIndex{
			IndexName: aws.String(scalar(get(g, "IndexName"))),
			KeySchema: keySchema(get(g, "KeySchema")),
			Projection: &types.Projection{
				ProjectionType: types.ProjectionType(scalar(path(g, "Projection", "ProjectionType"))),
			},
		}
		for _, a := range seq(path(g, "Projection", "NonKeyAttributes")) {
			gsi.Projection.NonKeyAttributes = append(gsi.Projection.NonKeyAttributes, scalar(a))
		}
		if provisioned {
			gsi.ProvisionedThroughput = throughput(get(g, "ProvisionedThroughput"))
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	return in, nil
}

func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func keySchema(n *yaml.Node) []types.KeySchemaElement {
	var out []types.KeySchemaElement
	for _, k := range seq(n) {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(scalar(get(k, "AttributeName"))), KeyType: types.KeyType(scalar(get(k, "KeyType")))})
	}
	return out
}

func throughput(n *yaml.Node) *types.ProvisionedThroughput {
	var r, w int64
	fmt.Sscan(scalar(get(n, "ReadCapacityUnits")), &r)
	fmt.Sscan(scalar(get(n, "WriteCapacityUnits")), &w)
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(w)}
}
