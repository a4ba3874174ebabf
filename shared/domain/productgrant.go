package domain

import (
	"slices"
	"strings"
)

// ProductGrant is what a product's token was issued for (rules §8, §10): one
// product, and the orgs (each with every site) and the single sites it may
// ask access decisions about. The identity provider states it in the
// token's product, orgs and sites claims; a grant that names no product or
// nothing to ask about (a token issued before tokens were bound) covers
// nothing.
type ProductGrant struct {
	// Product is the product the token speaks for; "" when the token names
	// none or one this service does not know.
	Product Product
	// Orgs are the orgs every site of which the token may ask about.
	Orgs []string
	// Sites are single sites the token may ask about, as org/site.
	Sites []string
}

// NewProductGrant makes the grant of a token's claims: product is the
// product claim, orgs the org ids of the orgs claim, sites the "org/site"
// entries of the sites claim. An unknown product, an org that is not an org
// id and a site entry that is not org/site are dropped: they cannot match a
// question anyway, and the grant covers no more than the valid rest.
func NewProductGrant(product string, orgs, sites []string) ProductGrant {
	var g ProductGrant
	if p, ok := ParseProduct(product); ok {
		g.Product = p
	}
	for _, o := range orgs {
		if ValidSlug(o) {
			g.Orgs = append(g.Orgs, o)
		}
	}
	for _, s := range sites {
		if o, site, ok := strings.Cut(s, "/"); ok && ValidSlug(o) && ValidSlug(site) {
			g.Sites = append(g.Sites, s)
		}
	}
	return g
}

// Covers reports whether the grant lets its product ask about product p on
// site siteID of org orgID: p is the grant's product, and the org is one
// of its orgs or the site one of its sites. The zero grant covers nothing.
// A question it does not cover is answered as one about an unknown org, so
// that no product learns what exists in a tenant it was not issued for.
func (g ProductGrant) Covers(p Product, orgID, siteID string) bool {
	if g.Product == "" || p != g.Product || orgID == "" || siteID == "" {
		return false
	}
	return slices.Contains(g.Orgs, orgID) || slices.Contains(g.Sites, orgID+"/"+siteID)
}

// Bound reports whether the grant names a product and something to ask
// about: a token that is not was issued before tokens were bound (or by a
// misconfigured identity provider), and covers nothing.
func (g ProductGrant) Bound() bool {
	return g.Product != "" && len(g.Orgs)+len(g.Sites) > 0
}
