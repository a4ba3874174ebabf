package samtemplate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.yaml.in/yaml/v3"
)

// TableLogicalIDs returns the logical ids of the template's
// AWS::DynamoDB::Table resources, sorted.
func (t *Template) TableLogicalIDs() []string { return t.ofType(typeTable) }

// TableTTLAttribute returns the attribute named by the table's
// TimeToLiveSpecification, and whether TTL is declared and enabled.
func (t *Template) TableTTLAttribute(logicalID string) (string, bool) {
	if t.types[logicalID] != typeTable {
		return "", false
	}
	ttl := at(t.resources[logicalID], "Properties", "TimeToLiveSpecification")
	name := str(get(ttl, "AttributeName"))
	if name == "" || !strings.EqualFold(str(get(ttl, "Enabled")), "true") {
		return "", false
	}
	return name, true
}

// TableInput builds the CreateTable request for the AWS::DynamoDB::Table
// resource logicalID, named tableName: its AttributeDefinitions, KeySchema,
// GlobalSecondaryIndexes and LocalSecondaryIndexes (with projections) and
// its billing mode. PAY_PER_REQUEST is used unless the table is PROVISIONED
// (explicitly, or by CloudFormation's default when BillingMode is absent and
// ProvisionedThroughput is given), in which case the throughput of the table
// and of each index is copied. TTL is not part of CreateTable; see
// [Template.TableTTLAttribute].
//
// It fails when logicalID is not a table, when a needed property is missing
// or not a literal, or when a key attribute is not among the
// AttributeDefinitions.
func (t *Template) TableInput(logicalID, tableName string) (*dynamodb.CreateTableInput, error) {
	if t.types[logicalID] != typeTable {
		return nil, fmt.Errorf("samtemplate: no AWS::DynamoDB::Table %q in template", logicalID)
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("samtemplate: table %s: %s", logicalID, fmt.Sprintf(format, a...))
	}
	p := get(t.resources[logicalID], "Properties")
	in := &dynamodb.CreateTableInput{TableName: aws.String(tableName)}

	defined := map[string]bool{}
	for i, a := range seq(get(p, "AttributeDefinitions")) {
		name, ok1 := literal(get(a, "AttributeName"))
		typ, ok2 := literal(get(a, "AttributeType"))
		if !ok1 || !ok2 || name == "" || typ == "" {
			return nil, fail("AttributeDefinitions[%d] needs a literal AttributeName and AttributeType", i)
		}
		defined[name] = true
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(name),
			AttributeType: types.ScalarAttributeType(typ),
		})
	}
	if len(in.AttributeDefinitions) == 0 {
		return nil, fail("no AttributeDefinitions")
	}
	var err error
	if in.KeySchema, err = keySchema(get(p, "KeySchema"), defined); err != nil {
		return nil, fail("KeySchema: %v", err)
	}

	var provisioned bool
	switch mode := str(get(p, "BillingMode")); mode {
	case "PAY_PER_REQUEST":
	case "PROVISIONED":
		provisioned = true
	case "":
		provisioned = get(p, "ProvisionedThroughput") != nil
	default:
		return nil, fail("unsupported BillingMode %q", mode)
	}
	if provisioned {
		in.BillingMode = types.BillingModeProvisioned
		if in.ProvisionedThroughput, err = throughput(get(p, "ProvisionedThroughput")); err != nil {
			return nil, fail("ProvisionedThroughput: %v", err)
		}
	} else {
		in.BillingMode = types.BillingModePayPerRequest
	}

	for i, g := range seq(get(p, "GlobalSecondaryIndexes")) {
		name, keys, proj, err := index(g, defined)
		if err != nil {
			return nil, fail("GlobalSecondaryIndexes[%d]: %v", i, err)
		}
		gsi := types.GlobalSecondaryIndex{IndexName: aws.String(name), KeySchema: keys, Projection: proj}
		if provisioned {
			if gsi.ProvisionedThroughput, err = throughput(get(g, "ProvisionedThroughput")); err != nil {
				return nil, fail("index %s ProvisionedThroughput: %v", name, err)
			}
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	for i, l := range seq(get(p, "LocalSecondaryIndexes")) {
		name, keys, proj, err := index(l, defined)
		if err != nil {
			return nil, fail("LocalSecondaryIndexes[%d]: %v", i, err)
		}
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{IndexName: aws.String(name), KeySchema: keys, Projection: proj})
	}
	return in, nil
}

// index reads the name, key schema and projection of a secondary index.
func index(n *yaml.Node, defined map[string]bool) (string, []types.KeySchemaElement, *types.Projection, error) {
	name, ok := literal(get(n, "IndexName"))
	if !ok || name == "" {
		return "", nil, nil, fmt.Errorf("needs a literal IndexName")
	}
	keys, err := keySchema(get(n, "KeySchema"), defined)
	if err != nil {
		return "", nil, nil, fmt.Errorf("index %s KeySchema: %v", name, err)
	}
	pn := get(n, "Projection")
	typ, ok := literal(get(pn, "ProjectionType"))
	if !ok || typ == "" {
		return "", nil, nil, fmt.Errorf("index %s needs a literal Projection.ProjectionType", name)
	}
	proj := &types.Projection{ProjectionType: types.ProjectionType(typ)}
	for _, a := range seq(get(pn, "NonKeyAttributes")) {
		v, ok := literal(a)
		if !ok {
			return "", nil, nil, fmt.Errorf("index %s has a non-literal NonKeyAttributes entry", name)
		}
		proj.NonKeyAttributes = append(proj.NonKeyAttributes, v)
	}
	return name, keys, proj, nil
}

// keySchema reads a KeySchema list, checking each attribute is defined.
func keySchema(n *yaml.Node, defined map[string]bool) ([]types.KeySchemaElement, error) {
	var out []types.KeySchemaElement
	for i, k := range seq(n) {
		name, ok1 := literal(get(k, "AttributeName"))
		typ, ok2 := literal(get(k, "KeyType"))
		if !ok1 || !ok2 || name == "" || typ == "" {
			return nil, fmt.Errorf("element %d needs a literal AttributeName and KeyType", i)
		}
		if !defined[name] {
			return nil, fmt.Errorf("attribute %s is not in AttributeDefinitions", name)
		}
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(name), KeyType: types.KeyType(typ)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("missing or empty")
	}
	return out, nil
}

// throughput reads a ProvisionedThroughput mapping.
func throughput(n *yaml.Node) (*types.ProvisionedThroughput, error) {
	if n == nil {
		return nil, fmt.Errorf("missing for a PROVISIONED table")
	}
	var units [2]int64
	for i, key := range []string{"ReadCapacityUnits", "WriteCapacityUnits"} {
		v, ok := literal(get(n, key))
		u, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || u <= 0 {
			return nil, fmt.Errorf("%s must be a literal positive integer, got %q", key, v)
		}
		units[i] = u
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(units[0]), WriteCapacityUnits: aws.Int64(units[1])}, nil
}
