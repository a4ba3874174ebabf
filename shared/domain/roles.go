package domain

// Product is a product on a site.
type Product string

// Known products. Only Confluence knows the guest role.
const (
	Confluence            Product = "confluence"
	Jira                  Product = "jira"
	JiraServiceManagement Product = "jira-service-management"
)

// Products lists the known products in a stable order.
var Products = []Product{Confluence, Jira, JiraServiceManagement}

// ParseProduct validates a product name.
func ParseProduct(s string) (Product, bool) {
	for _, p := range Products {
		if string(p) == s {
			return p, true
		}
	}
	return "", false
}

// Role is a user's or group's role on a (site, product): none < guest < user < admin.
type Role string

// Roles, lowest first.
const (
	RoleNone  Role = "none"
	RoleGuest Role = "guest"
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

func (r Role) rank() int {
	switch r {
	case RoleGuest:
		return 1
	case RoleUser:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// ParseRole validates a role name as the API writes it: none, guest,
// user or admin, exactly (the OpenAPI document's enums). The empty string
// and a name with spaces around are not roles: a role the document
// requires and that is missing is a 400, not none.
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case RoleNone, RoleGuest, RoleUser, RoleAdmin:
		return r, true
	}
	return "", false
}

// AtLeast reports whether r is o or higher.
func (r Role) AtLeast(o Role) bool { return r.rank() >= o.rank() }

// Paid reports whether the role makes its holder a paid (billable) user.
func (r Role) Paid() bool { return r.rank() >= RoleUser.rank() }

// CheckRoleForProduct refuses the guest role on anything but Confluence.
func CheckRoleForProduct(p Product, r Role) error {
	if r == RoleGuest && p != Confluence {
		return &Error{Code: EINVALID, Message: "The guest role exists only for Confluence; " + string(p) + " has no guests.",
			Fields: map[string]string{"products." + string(p) + ".role": "guest is valid only for confluence"}}
	}
	return nil
}

// EffectiveRole is the highest of a direct role and the roles of the user's groups.
func EffectiveRole(direct Role, groupRoles ...Role) Role {
	best := direct
	if best == "" {
		best = RoleNone
	}
	for _, g := range groupRoles {
		if g.rank() > best.rank() {
			best = g
		}
	}
	return best
}

// Kind classifies a user on Confluence by effective role.
type Kind string

// Kinds of user on a site's Confluence.
const (
	KindNone  Kind = "none"
	KindGuest Kind = "guest"
	KindPaid  Kind = "paid"
)

// KindOf classifies an effective Confluence role.
func KindOf(r Role) Kind {
	switch {
	case r.Paid():
		return KindPaid
	case r == RoleGuest:
		return KindGuest
	}
	return KindNone
}
