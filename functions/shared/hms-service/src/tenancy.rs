//! Organizations: who owns which claims, and which providers an organization may bill or
//! inquire for. Every stored record belongs to the organization of the caller that made it,
//! taken from its verified token; every use case is given that organization and answers
//! "not found" for another's records, so that ids cannot be probed. Which provider
//! identities an organization owns is configuration (data), checked before anything is
//! stored or sent for it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// An organization's id, as its tokens carry it (the `org` claim by default): 1 to 64
/// characters of letters, digits, `-`, `_` and `.`, so that it can sit inside a store key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrganizationId(String);

/// Why an organization id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an organization id (1 to 64 letters, digits, '-', '_' or '.')")]
pub struct OrganizationIdError(String);

impl OrganizationId {
    /// Checks an id a token or a configuration gave.
    pub fn parse(text: &str) -> Result<Self, OrganizationIdError> {
        let valid = (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if valid {
            Ok(Self(text.to_string()))
        } else {
            Err(OrganizationIdError(text.chars().take(64).collect()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrganizationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for OrganizationId {
    type Error = OrganizationIdError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<OrganizationId> for String {
    fn from(id: OrganizationId) -> Self {
        id.0
    }
}

/// The provider identities one organization owns: the billing NPIs it may submit claims and
/// inquiries for, its federal tax ids, and the submitter ids (loop 1000A) its claims may name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderIdentities {
    /// Billing (and inquiring) provider NPIs.
    pub npis: Vec<String>,
    /// Federal tax ids (EIN or SSN), compared by their digits.
    #[serde(default)]
    pub tax_ids: Vec<String>,
    /// Submitter ids the organization's claims may name; none listed means the clearinghouse's
    /// own (the claims name no submitter of their own).
    #[serde(default)]
    pub submitter_ids: Vec<String>,
}

/// Every organization's provider identities, by organization id: the `ORGANIZATIONS`
/// configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Organizations(pub BTreeMap<OrganizationId, ProviderIdentities>);

/// Why a request for a provider was refused: the organization does not own that identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderRefusal {
    /// No provider identities are configured for the organization.
    #[error("organization {0} has no provider identities configured")]
    UnknownOrganization(OrganizationId),
    /// The request names a provider NPI the organization does not own.
    #[error("organization {organization} does not own the {role} NPI {npi}")]
    Npi {
        /// The organization.
        organization: OrganizationId,
        /// Which provider (billing, inquiring).
        role: &'static str,
        /// The NPI, which is not PHI.
        npi: String,
    },
    /// The claim names a billing tax id the organization does not own.
    #[error("organization {organization} does not own the billing provider's tax id")]
    TaxId {
        /// The organization.
        organization: OrganizationId,
    },
    /// The claim names a submitter the organization is not.
    #[error("organization {organization} may not submit as submitter {submitter}")]
    Submitter {
        /// The organization.
        organization: OrganizationId,
        /// The submitter id named.
        submitter: String,
    },
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

impl Organizations {
    /// The identities of `organization`.
    fn of(&self, organization: &OrganizationId) -> Result<&ProviderIdentities, ProviderRefusal> {
        self.0
            .get(organization)
            .ok_or_else(|| ProviderRefusal::UnknownOrganization(organization.clone()))
    }

    /// Refuses a provider NPI `organization` does not own; `role` names the provider in the
    /// refusal.
    pub fn check_npi(
        &self,
        organization: &OrganizationId,
        role: &'static str,
        npi: &str,
    ) -> Result<(), ProviderRefusal> {
        let owned = self.of(organization)?;
        if owned.npis.iter().any(|n| n == npi) {
            Ok(())
        } else {
            Err(ProviderRefusal::Npi {
                organization: organization.clone(),
                role,
                npi: npi.to_string(),
            })
        }
    }

    /// The organization a payer pays when it names payee `npi` (N1*PE XX) or tax id `tax_id`
    /// (N1*PE FI, REF*TJ): the one organization that owns the NPI, else the one that owns
    /// the tax id. `None` when none does, or when two do (which would show one
    /// organization's money to another).
    pub fn payee(&self, npi: Option<&str>, tax_id: Option<&str>) -> Option<OrganizationId> {
        let only = |owners: Vec<&OrganizationId>| match owners.as_slice() {
            [one] => Some((*one).clone()),
            _ => None,
        };
        if let Some(npi) = npi.filter(|n| !n.is_empty()) {
            let owners: Vec<&OrganizationId> = self
                .0
                .iter()
                .filter(|(_, owned)| owned.npis.iter().any(|n| n == npi))
                .map(|(org, _)| org)
                .collect();
            if !owners.is_empty() {
                return only(owners);
            }
        }
        let tax_id = digits(tax_id.unwrap_or_default());
        if tax_id.is_empty() {
            return None;
        }
        only(
            self.0
                .iter()
                .filter(|(_, owned)| owned.tax_ids.iter().any(|t| digits(t) == tax_id))
                .map(|(org, _)| org)
                .collect(),
        )
    }

    /// Refuses a claim whose billing provider, tax id or submitter `organization` does not
    /// own. `default_submitter` is the clearinghouse's own submitter id, which every
    /// organization may name.
    pub fn check_claim(
        &self,
        organization: &OrganizationId,
        claim: &hms_domain::claims::Claim,
        default_submitter: &str,
    ) -> Result<(), ProviderRefusal> {
        let owned = self.of(organization)?;
        let billing = claim.billing_provider();
        let npi = billing.npi.as_ref().map(|n| n.as_str()).unwrap_or_default();
        self.check_npi(organization, "billing provider", npi)?;
        if let Some(tax_id) = &billing.tax_id
            && !owned.tax_ids.is_empty()
            && !owned
                .tax_ids
                .iter()
                .any(|t| digits(t) == digits(tax_id.as_str()))
        {
            return Err(ProviderRefusal::TaxId {
                organization: organization.clone(),
            });
        }
        let submitter = claim.submitter().id.as_str();
        if submitter != default_submitter && !owned.submitter_ids.iter().any(|s| s == submitter) {
            return Err(ProviderRefusal::Submitter {
                organization: organization.clone(),
                submitter: submitter.to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn organization_ids_are_checked_so_they_can_sit_in_store_keys() {
        for good in ["clinic-a", "Org_1.east", &"x".repeat(64)] {
            assert!(OrganizationId::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "a#b", "a:b", "a/b", "é", &"x".repeat(65), "a b"] {
            assert!(OrganizationId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_organization_may_only_name_the_providers_it_owns() {
        let org = OrganizationId::parse("clinic-a").unwrap();
        let other = OrganizationId::parse("clinic-z").unwrap();
        let orgs: Organizations = serde_json::from_value(serde_json::json!({
            "clinic-a": { "npis": ["1912301953"], "taxIds": ["58-7654321"] }
        }))
        .unwrap();
        assert_eq!(
            orgs.check_npi(&org, "inquiring provider", "1912301953"),
            Ok(())
        );
        assert!(matches!(
            orgs.check_npi(&org, "inquiring provider", "1234567893"),
            Err(ProviderRefusal::Npi { .. })
        ));
        assert!(matches!(
            orgs.check_npi(&other, "billing provider", "1912301953"),
            Err(ProviderRefusal::UnknownOrganization(_))
        ));
        assert_eq!(digits("58-7654321"), "587654321");
    }

    #[test]
    fn a_payee_is_the_one_organization_owning_its_npi_or_else_its_tax_id() {
        let orgs: Organizations = serde_json::from_value(serde_json::json!({
            "clinic-a": { "npis": ["1912301953"], "taxIds": ["58-7654321"] },
            "clinic-b": { "npis": ["1497758544"], "taxIds": ["12-3456789"] },
            "clinic-c": { "npis": ["1497758544"], "taxIds": [] }
        }))
        .unwrap();
        let a = OrganizationId::parse("clinic-a").ok();
        assert_eq!(orgs.payee(Some("1912301953"), None), a);
        assert_eq!(orgs.payee(None, Some("587654321")), a);
        assert_eq!(orgs.payee(Some("1234567893"), Some("58-7654321")), a);
        // Two organizations own the NPI: neither is paid by guess.
        assert_eq!(orgs.payee(Some("1497758544"), Some("12-3456789")), None);
        assert_eq!(orgs.payee(None, None), None);
        assert_eq!(orgs.payee(Some(""), Some("")), None);
    }
}
