package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/table"
)

// dueItems reads the items behind a page of due-work entries (GSI3). The
// index projects keys only (docs/data-model.md, "Index projections"): an
// attribute change that moves no entry writes nothing to it, so the
// profiles' daily lastActive, their status and token counts, and an
// invitation's token rotation cost no write on the due index's few
// partition keys. The items are read again in one strongly consistent
// BatchGetItem (a page is at most 100 entries), in the entries' order; an
// item whose entry has moved since the index was read (another GSI3PK or
// GSI3SK: delivered, claimed, checked, verified again meanwhile) or that is
// gone is left out, so a reader never acts on an entry that is no longer
// there (it is found at its new place when that is due).
func (s *Store) dueItems(ctx context.Context, entries []table.Item) ([]table.Item, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	keys := make([]table.Item, len(entries))
	for i, e := range entries {
		keys[i] = table.Item{"PK": e["PK"], "SK": e["SK"]}
	}
	got, err := s.BatchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]table.Item, 0, len(entries))
	for _, e := range entries {
		it, ok := got[table.PKSK(e)]
		if !ok || sAttr(it, "GSI3PK") != sAttr(e, "GSI3PK") || sAttr(it, "GSI3SK") != sAttr(e, "GSI3SK") {
			continue
		}
		out = append(out, it)
	}
	return out, nil
}

// sAttr is a string attribute of an item, "" when absent or not a string.
func sAttr(it table.Item, name string) string {
	v, _ := it[name].(*types.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}
