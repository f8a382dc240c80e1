//! Who may do what: the roles a token grants, the permissions each role holds, and the one
//! map from route to permission. The functions check a caller's roles against it; the
//! template's authorizer scopes are the permissions' scopes (a test holds the two together);
//! `hms token` mints a role's scopes with its roles.

use std::fmt;

/// A caller's role, as its token's roles claim names it. Revenue-cycle work is split so that
/// only billing staff push claims and only finance staff see money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Eligibility, claims, claim status.
    Billing,
    /// Remittances, payments, metrics.
    Finance,
    /// Webhooks, payer rules, redriving claims.
    Admin,
    /// The audit trail.
    Compliance,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Billing, Role::Finance, Role::Admin, Role::Compliance];

    /// The role a token names (`billing`, `finance`, `admin`, `compliance`); other names grant
    /// nothing.
    pub fn parse(name: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Its name in tokens.
    pub fn name(self) -> &'static str {
        match self {
            Role::Billing => "billing",
            Role::Finance => "finance",
            Role::Admin => "admin",
            Role::Compliance => "compliance",
        }
    }

    /// What it may do.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Billing => &[CheckEligibility, SubmitClaims, ReadClaims, CheckClaimStatus],
            Role::Finance => &[
                ReadRemittances,
                ReadPayments,
                ResolveExceptions,
                ReadMetrics,
            ],
            Role::Admin => &[ManageWebhooks, ManagePayerRules, RedriveClaims],
            Role::Compliance => &[ReadAudit],
        }
    }

    /// Whether it may do `permission`.
    pub fn may(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Something a caller may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Ask a payer about a member's coverage.
    CheckEligibility,
    /// Submit claims.
    SubmitClaims,
    /// Read the organization's claims.
    ReadClaims,
    /// Ask a payer about a claim's status.
    CheckClaimStatus,
    /// Read remittances (835s).
    ReadRemittances,
    /// Read payments and reconciliation.
    ReadPayments,
    /// Resolve remittance exceptions (and link payments to claims by hand).
    ResolveExceptions,
    /// Read metrics.
    ReadMetrics,
    /// Manage webhook subscriptions.
    ManageWebhooks,
    /// Manage payer rule sets.
    ManagePayerRules,
    /// Move dead-lettered claims back into the queue.
    RedriveClaims,
    /// Read the audit trail.
    ReadAudit,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 12] = [
        Permission::CheckEligibility,
        Permission::SubmitClaims,
        Permission::ReadClaims,
        Permission::CheckClaimStatus,
        Permission::ReadRemittances,
        Permission::ReadPayments,
        Permission::ResolveExceptions,
        Permission::ReadMetrics,
        Permission::ManageWebhooks,
        Permission::ManagePayerRules,
        Permission::RedriveClaims,
        Permission::ReadAudit,
    ];

    /// The OAuth scope an authorizer checks for it (the template's `AuthorizationScopes`).
    pub fn scope(self) -> &'static str {
        match self {
            Permission::CheckEligibility => "eligibility:read",
            Permission::SubmitClaims => "claims:write",
            Permission::ReadClaims | Permission::CheckClaimStatus => "claims:read",
            Permission::ReadRemittances => "remittances:read",
            Permission::ReadPayments => "payments:read",
            Permission::ResolveExceptions => "remittances:write",
            Permission::ReadMetrics => "metrics:read",
            Permission::ManageWebhooks => "webhooks:write",
            Permission::ManagePayerRules => "rules:write",
            Permission::RedriveClaims => "claims:redrive",
            Permission::ReadAudit => "audit:read",
        }
    }

    /// The roles that hold it.
    pub fn roles(self) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| r.may(self)).collect()
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One route of the API and what it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteAccess {
    /// HTTP method.
    pub method: &'static str,
    /// Path, with `{name}` for a parameter, as the template writes it.
    pub path: &'static str,
    /// What the caller must be allowed.
    pub permission: Permission,
}

/// Every route and its permission: the one place that says who may call what.
pub const ROUTES: &[RouteAccess] = &[
    RouteAccess {
        method: "POST",
        path: "/ach/queryEligibility",
        permission: Permission::CheckEligibility,
    },
    RouteAccess {
        method: "POST",
        path: "/ach/submitClaim",
        permission: Permission::SubmitClaims,
    },
    RouteAccess {
        method: "GET",
        path: "/ach/claims/{id}",
        permission: Permission::ReadClaims,
    },
    RouteAccess {
        method: "POST",
        path: "/ach/claimStatus",
        permission: Permission::CheckClaimStatus,
    },
    RouteAccess {
        method: "POST",
        path: "/ach/admin/claims/{id}/redrive",
        permission: Permission::RedriveClaims,
    },
    RouteAccess {
        method: "POST",
        path: "/ach/fetchRemittance",
        permission: Permission::ReadRemittances,
    },
    RouteAccess {
        method: "GET",
        path: "/ach/remittances/exceptions",
        permission: Permission::ReadPayments,
    },
    RouteAccess {
        method: "POST",
        path: "/ach/remittances/exceptions/{id}/resolve",
        permission: Permission::ResolveExceptions,
    },
    RouteAccess {
        method: "POST",
        path: "/ach/webhooks",
        permission: Permission::ManageWebhooks,
    },
    RouteAccess {
        method: "GET",
        path: "/ach/webhooks",
        permission: Permission::ManageWebhooks,
    },
    RouteAccess {
        method: "GET",
        path: "/ach/webhooks/{id}",
        permission: Permission::ManageWebhooks,
    },
    RouteAccess {
        method: "PATCH",
        path: "/ach/webhooks/{id}",
        permission: Permission::ManageWebhooks,
    },
    RouteAccess {
        method: "DELETE",
        path: "/ach/webhooks/{id}",
        permission: Permission::ManageWebhooks,
    },
    RouteAccess {
        method: "POST",
        path: "/ach/webhooks/{id}/rotate-secret",
        permission: Permission::ManageWebhooks,
    },
    RouteAccess {
        method: "POST",
        path: "/ach/webhooks/{id}/test",
        permission: Permission::ManageWebhooks,
    },
    RouteAccess {
        method: "GET",
        path: "/ach/webhooks/{id}/deliveries",
        permission: Permission::ManageWebhooks,
    },
    RouteAccess {
        method: "POST",
        path: "/ach/webhooks/{id}/replay",
        permission: Permission::ManageWebhooks,
    },
];

/// The permission `method` on `path` (a concrete path, `/ach/claims/clm_…`) takes, if it is
/// a route.
pub fn permission_for(method: &str, path: &str) -> Option<Permission> {
    ROUTES
        .iter()
        .find(|r| r.method == method && matches(r.path, path))
        .map(|r| r.permission)
}

/// Whether `path` fits the route template `template` (`{name}` is one segment).
fn matches(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.trim_end_matches('/').split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') && !ps.is_empty() => {}
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return false,
        }
    }
}

/// The scopes `roles` hold, each once, in a stable order (what `hms token` puts in a token
/// for an authorizer to check).
pub fn scopes_of(roles: &[Role]) -> Vec<&'static str> {
    let mut scopes: Vec<&'static str> = roles
        .iter()
        .flat_map(|r| r.permissions().iter().map(|p| p.scope()))
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_permission_belongs_to_exactly_one_role_and_each_route_to_one_permission() {
        for permission in Permission::ALL {
            assert_eq!(permission.roles().len(), 1, "{permission}");
        }
        assert_eq!(
            permission_for("GET", "/ach/claims/clm_0192f5a0c1b27c3d8e9f0a1b2c3d4e5f"),
            Some(Permission::ReadClaims)
        );
        assert_eq!(
            permission_for("POST", "/ach/admin/claims/clm_x/redrive"),
            Some(Permission::RedriveClaims)
        );
        assert_eq!(permission_for("GET", "/ach/claims/"), None);
        assert_eq!(permission_for("DELETE", "/ach/submitClaim"), None);
        assert_eq!(permission_for("GET", "/ach/claims/a/b"), None);
        assert_eq!(Role::parse("billing"), Some(Role::Billing));
        assert_eq!(Role::parse("root"), None);
        assert_eq!(
            scopes_of(&[Role::Billing]),
            ["claims:read", "claims:write", "eligibility:read"]
        );
    }
}
