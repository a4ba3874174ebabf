// What invitees become on a site's Confluence, worked out before sending, by
// the API's rules (shared/domain: EffectiveRole, KindOf, PlanGrant): the
// effective role is the highest of the direct role and the roles the chosen
// groups give on this site's Confluence; user or admin makes a paid user,
// guest a guest, nothing else no Confluence access.

const rank = { none: 0, guest: 1, user: 2, admin: 3 };

/** The role a group gives on site's product ("none" when it gives none). */
export function groupRole(group, site, product) {
  const r = (group.roles || []).find((x) => x.site === site && x.product === product);
  return r ? r.role : "none";
}

/**
 * The invitees' Confluence kind: {kind: "guest"|"paid"|"none", role, paidBy:
 * [why…]}. direct is the Confluence role chosen ("none", "guest", "user").
 */
export function planKind(site, direct, groups) {
  let best = direct || "none";
  const paidBy = [];
  if ((rank[best] || 0) >= rank.user) paidBy.push("the Confluence role '" + best + "' chosen");
  for (const g of groups) {
    const r = groupRole(g, site, "confluence");
    if ((rank[r] || 0) > (rank[best] || 0)) best = r;
    if ((rank[r] || 0) >= rank.user) paidBy.push("group " + g.name + " (" + g.id + ") gives Confluence '" + r + "'");
  }
  const kind = (rank[best] || 0) >= rank.user ? "paid" : best === "guest" ? "guest" : "none";
  return { kind, role: best, paidBy };
}
