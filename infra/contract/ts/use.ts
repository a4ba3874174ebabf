// A frontend's use of the generated types (infra/scripts/clients.sh copies
// this beside the generated api.d.ts and compiles both under tsc --strict).
import type { components, operations, paths } from "./api";

type Group = components["schemas"]["Group"];
type Problem = components["schemas"]["Problem"];
type InviteBody = NonNullable<operations["inviteGuests"]["requestBody"]>["content"]["application/json"];
type DecisionQuery = paths["/orgs/{orgId}/sites/{siteId}/products/{product}/access/{accountId}"]["get"]["parameters"]["query"];

export function groupLabel(g: Group): string {
  return `${g.name} (${g.memberCount} members)`;
}

export function problemText(p: Problem): string {
  return p.detail ?? p.title;
}

export const invite: InviteBody = {
  emails: ["pat@agency.example"],
  products: { confluence: { role: "guest" } },
  message: "Welcome!",
};

export const decision: DecisionQuery = { client: "web", space: "MKT" };
