package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// ExternalUsers reads one page of an org's external users, by domain then
// email (A19): Queries of GSI2 `ORG#o#BYDOMAIN` over the key ranges between
// the org's verified domains (each verified domain's `<domain>#` prefix is
// skipped), so the cost is the external users read plus at most one Query
// per verified domain crossed; internal users are never read. The cursor is
// the last profile's by-domain key: a page after a domain was added or
// removed goes on from the same place under the new domains. Users come
// back with External set.
func (s *Store) ExternalUsers(ctx context.Context, org domain.Org, cursor string, limit int) ([]domain.User, string, error) {
	return s.usersInRanges(ctx, org, externalRanges(org.VerifiedDomains), cursor, limit)
}

// usersInRanges reads one page of profiles from the by-domain index over
// key ranges in order, from the cursor (the last profile's by-domain key,
// base64url) on: one Query per range touched, each Limit the page's rest.
// Users come back with External set from the org.
func (s *Store) usersInRanges(ctx context.Context, org domain.Org, ranges []keyRange, cursor string, limit int) ([]domain.User, string, error) {
	limit = max(1, min(limit, 1000))
	from := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.Contains(string(b), "#") || len(b) > 1024 {
			return nil, "", badCursor()
		}
		// The smallest key after the cursor's: addresses hold no spaces.
		from = string(b) + " "
	}
	var out []domain.User
	last := ""
	for _, r := range ranges {
		lo := max(r.lo, from)
		if r.hi != "" && lo >= r.hi {
			continue
		}
		cond, vals := "GSI2PK = :pk AND GSI2SK >= :lo", table.Item{":pk": table.S(table.ByDomainGSI2PK(org.ID)), ":lo": table.S(lo)}
		if r.hi != "" {
			// No key equals a bare "<domain>#", so BETWEEN lo AND hi is lo ≤ k < hi.
			cond, vals = "GSI2PK = :pk AND GSI2SK BETWEEN :lo AND :hi", table.Item{":pk": table.S(table.ByDomainGSI2PK(org.ID)), ":lo": table.S(lo), ":hi": table.S(r.hi)}
		}
		var start table.Item
		for {
			in := &dynamodb.QueryInput{TableName: &s.Name, IndexName: aws.String(GSI2), KeyConditionExpression: aws.String(cond),
				ExpressionAttributeValues: vals, Limit: aws.Int32(int32(limit - len(out))), ExclusiveStartKey: start}
			res, err := s.DB.Query(ctx, in)
			if err != nil {
				return nil, "", fmt.Errorf("store: external users: %w", err)
			}
			for _, it := range res.Items {
				ui, err := decodeUser(it)
				if err != nil {
					return nil, "", err
				}
				u := ui.domain()
				u.External = org.IsExternal(u.Email)
				out = append(out, u)
				last = ui.GSI2SK
			}
			if len(out) >= limit {
				return out, base64.RawURLEncoding.EncodeToString([]byte(last)), nil
			}
			if len(res.LastEvaluatedKey) == 0 {
				break
			}
			start = res.LastEvaluatedKey
		}
	}
	return out, "", nil
}

// keyRange is a range of by-domain keys, lo ≤ k < hi ("" hi: no end).
type keyRange struct{ lo, hi string }

// externalRanges are the by-domain key ranges outside the verified
// domains, in order: before the first domain's prefix, between each
// domain's prefix end and the next prefix, after the last.
func externalRanges(verified []string) []keyRange {
	ds := make([]string, 0, len(verified))
	for _, v := range verified {
		if n := domain.NormalizeDomain(v); n != "" {
			ds = append(ds, n)
		}
	}
	slices.Sort(ds)
	ds = slices.Compact(ds)
	var rs []keyRange
	// Below every key (DynamoDB refuses an empty string in a key condition).
	lo := " "
	for _, d := range ds {
		p := table.DomainPrefix(d)
		if lo < p {
			rs = append(rs, keyRange{lo: lo, hi: p})
		}
		// Every key of the domain starts with "<domain>#"; "<domain>$" is just past them.
		lo = d + "$"
	}
	return append(rs, keyRange{lo: lo})
}
