package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/guestaccess/guestaccess/shared/domain"
	"github.com/guestaccess/guestaccess/shared/table"
)

// CreateOrg writes a new org; ECONFLICT if it exists.
func (s *Store) CreateOrg(ctx context.Context, o domain.Org) error {
	return s.putNew(ctx, newOrgItem(o), "org "+o.ID)
}

// CreateSite writes a new site with zeroed billing counters and its user
// limit (domain.DefaultUserLimit unless site.UserLimit says otherwise);
// ECONFLICT if it exists.
func (s *Store) CreateSite(ctx context.Context, site domain.Site) error {
	if site.UserLimit < 0 {
		return domain.Errorf(domain.EINVALID, "A site's user limit cannot be negative.")
	}
	site.UserLimit = site.UserLimitOrDefault()
	site.PaidUsers, site.Guests, site.GuestSlots, site.UserSlots = 0, 0, 0, site.UserLimit
	return s.putNew(ctx, newSiteItem(site), "site "+site.ID)
}

func (s *Store) putNew(ctx context.Context, v table.Encoder, what string) error {
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Name, Item: table.Marshal(v), ConditionExpression: aws.String("attribute_not_exists(PK)")})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return domain.Errorf(domain.ECONFLICT, "%s already exists.", what)
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", what, err)
	}
	return nil
}

// CreateUser adds an account directly (bootstrap, directory sync, demo data):
// its email guard, profile and access on one site, the site's billing
// counters and an audit entry, in one transaction. ECONFLICT if the email is
// taken; ELIMIT (with the site's real numbers) if a guest would pass the guest
// limit, EUSERLIMIT if the account would pass the user limit.
func (s *Store) CreateUser(ctx context.Context, u domain.User, siteID string, access []domain.Access) error {
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newEmailItem(u, nil)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newUserItem(u)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}
	var seats domain.Seats
	for _, a := range access {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAccessItem(u, siteID, a))}})
		if a.Product == domain.Confluence {
			seats = seats.Plus(domain.SeatsOf(domain.KindOf(a.Effective)))
		}
	}
	counters := -1
	if !seats.Zero() {
		counters = len(tx)
		tx = append(tx, types.TransactWriteItem{Update: s.counterUpdate(u.OrgID, siteID, seats)})
	}
	roles := map[string]any{}
	for _, a := range access {
		roles[string(a.Product)] = string(a.Effective)
	}
	audit := domain.NewAudit(u.OrgID, domain.ActorSystem, domain.ActionUserCreate, domain.UserTarget(u.AccountID), "", u.CreatedAt, nil,
		map[string]any{"email": u.Email, "site": siteID, "roles": roles})
	tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.Name, Item: table.Marshal(newAuditItem(audit))}})
	err := s.Transact(ctx, "create user", tx)
	var c *table.Cancelled
	if !errors.As(err, &c) {
		return err
	}
	if counters >= 0 && c.Code(counters) == "ConditionalCheckFailed" {
		site, err := s.siteFrom(ctx, c, ownerOf(len(tx), counters), u.OrgID, siteID)
		if err != nil {
			return err
		}
		return domain.LimitError(site, seats)
	}
	return domain.Errorf(domain.ECONFLICT, "An account with email %s already exists in org %s.", u.Email, u.OrgID)
}

// ownerOf marks item j of n as the counters' (-1) for siteFrom.
func ownerOf(n, j int) []int {
	o := make([]int, n)
	o[j] = -1
	return o
}

// User reads one account profile (ENOTFOUND if none).
func (s *Store) User(ctx context.Context, orgID, accountID string) (domain.User, error) {
	got, err := s.Get(ctx, table.UserPK(orgID, accountID), table.SKProfile)
	if err != nil || got == nil {
		return domain.User{}, table.NotFoundOr(err, "No such user.")
	}
	it, err := decodeUser(got)
	return it.domain(), err
}

// Access reads a user's access on one product of one site (ENOTFOUND if none).
func (s *Store) Access(ctx context.Context, orgID, accountID, siteID string, p domain.Product) (domain.Access, error) {
	got, err := s.Get(ctx, table.UserPK(orgID, accountID), table.AccessSK(siteID, string(p)))
	if err != nil || got == nil {
		return domain.Access{}, table.NotFoundOr(err, "No access.")
	}
	it, err := decodeAccess(got)
	return it.domain(), err
}

// Invitation reads one invitation (ENOTFOUND if none).
func (s *Store) Invitation(ctx context.Context, orgID, accountID, id string) (domain.Invitation, error) {
	got, err := s.Get(ctx, table.UserPK(orgID, accountID), table.InviteSK(id))
	if err != nil || got == nil {
		return domain.Invitation{}, table.NotFoundOr(err, "No such invitation.")
	}
	it, err := decodeInvitation(got)
	return it.domain(), err
}

// InvitationByID reads an invitation of a site by its id alone (A14): its
// reference names the account it is kept under, then the invitation is read
// (two reads, one after the other). ENOTFOUND when there is none on that
// site.
func (s *Store) InvitationByID(ctx context.Context, orgID, siteID, id string) (domain.Invitation, error) {
	got, err := s.Get(ctx, table.InvRefPK(orgID, id), table.SKInvRef)
	if err != nil || got == nil {
		return domain.Invitation{}, table.NotFoundOr(err, "No such invitation on this site.")
	}
	ref, err := decodeInvRef(got)
	if err != nil {
		return domain.Invitation{}, err
	}
	if ref.SiteID != siteID {
		return domain.Invitation{}, domain.Errorf(domain.ENOTFOUND, "No such invitation on this site.")
	}
	return s.Invitation(ctx, orgID, ref.AccountID, id)
}
