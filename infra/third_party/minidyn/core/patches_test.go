package core

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/truora/minidyn/types"
)

// Tests of the fixes listed in PATCHES.md (1 to 3).

// sparseTable has a primary key id and a sparse index "by-group" on
// (group, at).
func sparseTable(t *testing.T) *Table {
	t.Helper()

	table := NewTable(tableName)
	table.AttributesDef = map[string]string{"id": "S", "group": "S", "at": "S"}
	table.KeySchema = keySchema{"id", "", false}
	name, all := "by-group", "ALL"
	require.NoError(t, table.AddGlobalIndexes([]*types.GlobalSecondaryIndex{{
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: 1, WriteCapacityUnits: 1},
		IndexName:             &name,
		KeySchema:             []*types.KeySchemaElement{{AttributeName: "group", KeyType: "HASH"}, {AttributeName: "at", KeyType: "RANGE"}},
		Projection:            &types.Projection{ProjectionType: &all},
	}}))

	return table
}

func putItem(t *testing.T, table *Table, attrs map[string]string) {
	t.Helper()

	item := map[string]*types.Item{}
	for k, v := range attrs {
		item[k] = &types.Item{S: new(v)}
	}

	_, err := table.Put(&types.PutItemInput{Item: item, TableName: &table.Name})
	require.NoError(t, err)
}

func queryGroup(t *testing.T, table *Table, group, filter string, limit int64) ([]string, map[string]*types.Item) {
	t.Helper()

	in := QueryInput{
		Index:                     "by-group",
		KeyConditionExpression:    "#g = :g",
		Aliases:                   map[string]string{"#g": "group", "#k": "kind"},
		ExpressionAttributeValues: map[string]*types.Item{":g": {S: new(group)}, ":k": {S: new("keep")}},
		ScanIndexForward:          true,
		Limit:                     limit,
	}
	if filter != "" {
		in.FilterExpression = filter
	}

	items, last, err := table.SearchData(in)
	require.NoError(t, err)

	var ids []string
	for _, it := range items {
		ids = append(ids, *it["id"].S)
	}

	return ids, last
}

// An item that loses its index keys (put without them) and is then deleted
// leaves the index in step: the other entries are still found.
func TestPatchedIndexUpkeepLostKeysThenDelete(t *testing.T) {
	table := sparseTable(t)
	for i := range 5 {
		putItem(t, table, map[string]string{"id": fmt.Sprintf("a%d", i), "group": "A", "at": fmt.Sprint(i)})
	}

	putItem(t, table, map[string]string{"id": "z", "group": "Z", "at": "1"})
	putItem(t, table, map[string]string{"id": "z"}) // loses its index keys
	_, err := table.Delete(&types.DeleteItemInput{Key: map[string]*types.Item{"id": {S: new("z")}}, TableName: &table.Name})
	require.NoError(t, err)

	ids, _ := queryGroup(t, table, "A", "", 0)
	require.Equal(t, []string{"a0", "a1", "a2", "a3", "a4"}, ids)
	ids, _ = queryGroup(t, table, "Z", "", 0)
	require.Empty(t, ids)
	require.Equal(t, int64(5), table.Indexes["by-group"].count())
}

// An UpdateItem that gives an item index keys it did not have adds an entry
// and takes none away; one that removes them (REMOVE) drops its entry.
func TestPatchedIndexUpkeepUpdateGainsAndRemovesKeys(t *testing.T) {
	table := sparseTable(t)
	for i := range 3 {
		putItem(t, table, map[string]string{"id": fmt.Sprintf("a%d", i), "group": "A", "at": fmt.Sprint(i)})
	}

	putItem(t, table, map[string]string{"id": "b"})
	_, err := table.Update(&types.UpdateItemInput{
		TableName: &table.Name, Key: map[string]*types.Item{"id": {S: new("b")}},
		UpdateExpression:          "SET #g = :g, #a = :a",
		ExpressionAttributeNames:  map[string]string{"#g": "group", "#a": "at"},
		ExpressionAttributeValues: map[string]*types.Item{":g": {S: new("A")}, ":a": {S: new("9")}},
	})
	require.NoError(t, err)

	ids, _ := queryGroup(t, table, "A", "", 0)
	require.Equal(t, []string{"a0", "a1", "a2", "b"}, ids)

	_, err = table.Update(&types.UpdateItemInput{
		TableName: &table.Name, Key: map[string]*types.Item{"id": {S: new("b")}},
		UpdateExpression: "REMOVE #g", ExpressionAttributeNames: map[string]string{"#g": "group"},
	})
	require.NoError(t, err)
	require.NotContains(t, table.Data["b"], "group") // PATCHES.md, 3

	ids, _ = queryGroup(t, table, "A", "", 0)
	require.Equal(t, []string{"a0", "a1", "a2"}, ids)
	require.Equal(t, int64(3), table.Indexes["by-group"].count())
}

// With a filter, Limit counts only items within the key condition, and
// LastEvaluatedKey names one of them.
func TestPatchedLimitWithFilterCountsOnlyTheKeyRange(t *testing.T) {
	table := sparseTable(t)
	for i := range 3 {
		putItem(t, table, map[string]string{"id": fmt.Sprintf("a%d", i), "group": "A", "at": fmt.Sprint(i), "kind": "keep"})
	}

	for i := range 50 { // other partitions of the index, sorting after A
		putItem(t, table, map[string]string{"id": fmt.Sprintf("b%02d", i), "group": "B", "at": fmt.Sprint(i), "kind": "keep"})
	}

	ids, last := queryGroup(t, table, "A", "#k = :k", 10)
	require.Equal(t, []string{"a0", "a1", "a2"}, ids)
	require.Empty(t, last)

	ids, last = queryGroup(t, table, "A", "#k = :k", 2)
	require.Equal(t, []string{"a0", "a1"}, ids)
	require.Equal(t, "A", *last["group"].S)
}

// A page after an item deleted since the previous page goes on from where
// that item was (PATCHES.md, 6), forward and backward, on an index and on
// the table.
func TestPatchedStartKeyOfADeletedItem(t *testing.T) {
	table := sparseTable(t)
	for i := range 6 {
		putItem(t, table, map[string]string{"id": fmt.Sprintf("a%d", i), "group": "A", "at": fmt.Sprint(i)})
	}

	for _, forward := range []bool{true, false} {
		in := QueryInput{
			Index:                     "by-group",
			KeyConditionExpression:    "#g = :g",
			Aliases:                   map[string]string{"#g": "group"},
			ExpressionAttributeValues: map[string]*types.Item{":g": {S: new("A")}},
			ScanIndexForward:          forward,
			Limit:                     2,
		}
		items, last, err := table.SearchData(in)
		require.NoError(t, err)
		require.Len(t, items, 2)

		deleted := *last["id"].S
		_, err = table.Delete(&types.DeleteItemInput{Key: map[string]*types.Item{"id": {S: new(deleted)}}, TableName: &table.Name})
		require.NoError(t, err)

		in.ExclusiveStartKey, in.Limit = last, 0
		items, _, err = table.SearchData(in)
		require.NoError(t, err)

		want := []string{"a2", "a3", "a4", "a5"}
		if !forward {
			want = []string{"a3", "a2", "a1", "a0"}
		}

		var ids []string
		for _, it := range items {
			ids = append(ids, *it["id"].S)
		}

		require.Equal(t, want, ids, "forward=%v, after deleting %s", forward, deleted)
		putItem(t, table, map[string]string{"id": deleted, "group": "A", "at": deleted[1:]})
	}
}
