//! The resources a FHIR `Claim` refers to, found by every form a FHIR reference takes.
//!
//! EHRs and generators publish claims in several shapes: the Claim with its parties
//! `contained` (`#id`), a transaction or collection `Bundle` whose entries refer to each other by
//! `fullUrl` (`urn:uuid:…`) or by `Type/id`, a searchset, a conditional reference
//! (`Patient?identifier=system|value`) from a transaction, and a logical reference that carries
//! only an `identifier` (a payer known by its payer id). A Claim must not be refused because its
//! author chose one of these over another, so all of them resolve here, and what does not
//! resolve is named with the reference that failed.
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics"
)]

use std::collections::HashMap;

use serde_json::Value;

use crate::claims::bundle::Referring;

/// Where a reference led.
#[derive(Debug, Clone, Copy)]
pub enum Resolved<'a> {
    /// To a resource in the input.
    Found(&'a Value),
    /// To no resource, but the reference names its target by identifier (a logical reference),
    /// which is all some uses need (a payer's id).
    Logical(&'a Value),
}

/// Why a reference led nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// The element is absent, or a reference with neither `reference` nor `identifier`.
    Absent,
    /// It names a resource the input does not hold.
    Missing(String),
    /// A conditional or logical reference matches more than one resource.
    Ambiguous(String),
}

impl Unresolved {
    /// Says what failed, for an issue about the element at `at`.
    pub fn explain(&self, at: &str) -> String {
        match self {
            Self::Absent => format!("{at} is required"),
            Self::Missing(reference) => format!(
                "{at} refers to {reference:?}, which is not in the input: send it contained in the Claim or as an entry of the Bundle with it"
            ),
            Self::Ambiguous(reference) => format!(
                "{at} refers to {reference:?}, which matches more than one resource of the input"
            ),
        }
    }
}

/// The most resources one input may hold: a Synthea patient's whole record is some
/// thousands; the bound keeps the index's memory proportional to what the body limit allows.
pub const MAX_RESOURCES: usize = 100_000;

/// Every resource of one input, indexed by each form a reference takes: held in memory, or
/// a Bundle in a file whose entries are read as references lead to them.
#[derive(Debug, Default)]
pub struct Resources<'a> {
    /// `fullUrl` → resource.
    by_url: HashMap<&'a str, &'a Value>,
    /// (resource type, id) → resource; `None` when two differing resources share one.
    by_id: HashMap<(&'a str, &'a str), Option<&'a Value>>,
    /// Every resource, for conditional and logical references.
    all: Vec<&'a Value>,
    /// The Bundle in a file, when the resources are there rather than in the maps above.
    stored: Option<Referring<'a>>,
}

impl<'a> Resources<'a> {
    /// The index of `input`: a resource alone, or every entry of a `Bundle` (nested Bundles
    /// included, up to the depth serde_json allowed the document).
    pub fn of(input: &'a Value) -> Self {
        let mut index = Self::default();
        index.add(input, None);
        index
    }

    /// The resources of a Bundle in a file, each read when a reference first leads to it:
    /// what a Bundle of thousands of Claims resolves against, one Claim at a time.
    pub fn stored(bundle: Referring<'a>) -> Self {
        Self {
            stored: Some(bundle),
            ..Self::default()
        }
    }

    fn add(&mut self, resource: &'a Value, full_url: Option<&'a str>) {
        if self.all.len() >= MAX_RESOURCES {
            return;
        }
        if resource["resourceType"] == "Bundle" {
            for entry in resource["entry"].as_array().into_iter().flatten() {
                self.add(&entry["resource"], entry["fullUrl"].as_str());
            }
            return;
        }
        let Some(kind) = resource["resourceType"].as_str() else {
            return;
        };
        if let Some(url) = full_url {
            self.by_url.insert(url, resource);
        }
        if let Some(id) = resource["id"].as_str() {
            self.by_id
                .entry((kind, id))
                .and_modify(|seen| {
                    if seen.is_some_and(|s| s != resource) {
                        *seen = None;
                    }
                })
                .or_insert(Some(resource));
        }
        self.all.push(resource);
    }

    /// Every resource of type `kind`, in input order.
    pub fn of_type(&self, kind: &'a str) -> impl Iterator<Item = &'a Value> + '_ {
        self.all
            .iter()
            .copied()
            .filter(move |r| r["resourceType"] == kind)
    }

    /// What `reference` (a FHIR `Reference`) in the resource `from` leads to. `#id` is looked
    /// up among `from`'s contained resources, then the Claim's (`claim`), as a Coverage
    /// contained in a Claim names the Patient beside it.
    pub fn resolve(
        &self,
        reference: &'a Value,
        from: &'a Value,
        claim: &'a Value,
    ) -> Result<Resolved<'a>, Unresolved> {
        let Some(text) = reference["reference"].as_str().filter(|r| !r.is_empty()) else {
            return match &reference["identifier"] {
                Value::Object(_) => {
                    let identifier = &reference["identifier"];
                    let kind = reference["type"].as_str();
                    match self.by_identifier(kind, identifier) {
                        Ok(Some(found)) => Ok(Resolved::Found(found)),
                        Ok(None) => Ok(Resolved::Logical(identifier)),
                        Err(()) => Err(Unresolved::Ambiguous(format!(
                            "identifier {}",
                            identifier["value"].as_str().unwrap_or_default()
                        ))),
                    }
                }
                _ => Err(Unresolved::Absent),
            };
        };
        let missing = || Unresolved::Missing(text.to_string());
        if let Some(id) = text.strip_prefix('#') {
            return [from, claim]
                .iter()
                .find_map(|holder| {
                    holder["contained"]
                        .as_array()?
                        .iter()
                        .find(|r| r["id"].as_str() == Some(id))
                })
                .map(Resolved::Found)
                .ok_or_else(missing);
        }
        if let Some(found) = self.url(text) {
            return Ok(Resolved::Found(found));
        }
        if let Some((kind, query)) = text.split_once('?') {
            return self.conditional(kind, query, text);
        }
        // `Type/id`, or an absolute URL ending so, with or without `/_history/version`.
        let path = text.split("/_history/").next().unwrap_or(text);
        let mut parts = path.rsplit('/');
        let (Some(id), Some(kind)) = (parts.next(), parts.next()) else {
            return Err(missing());
        };
        match self.id(kind, id) {
            Some(Some(found)) => Ok(Resolved::Found(found)),
            Some(None) => Err(Unresolved::Ambiguous(text.to_string())),
            None => Err(missing()),
        }
    }

    /// A conditional reference: `Type?identifier=[system|]value` (other search parameters
    /// are not a reference a Claim needs).
    fn conditional(&self, kind: &str, query: &str, text: &str) -> Result<Resolved<'a>, Unresolved> {
        let wanted = query
            .split('&')
            .find_map(|p| p.strip_prefix("identifier="))
            .ok_or_else(|| Unresolved::Missing(text.to_string()))?;
        let (system, value) = match wanted.split_once('|') {
            Some((system, value)) => (Some(system).filter(|s| !s.is_empty()), value),
            None => (None, wanted),
        };
        let Some(candidates) = self.carrying(value) else {
            return Err(Unresolved::Ambiguous(text.to_string()));
        };
        let mut matches = candidates
            .filter(|r| r["resourceType"] == kind)
            .filter(|r| {
                r["identifier"].as_array().is_some_and(|ids| {
                    ids.iter().any(|i| {
                        i["value"].as_str() == Some(value)
                            && system.is_none_or(|s| i["system"].as_str() == Some(s))
                    })
                })
            });
        match (matches.next(), matches.next()) {
            (Some(found), None) => Ok(Resolved::Found(found)),
            (Some(_), Some(_)) => Err(Unresolved::Ambiguous(text.to_string())),
            (None, _) => Err(Unresolved::Missing(text.to_string())),
        }
    }

    /// The one resource (of `kind`, when given) carrying `identifier`; `Err` when several do.
    fn by_identifier(
        &self,
        kind: Option<&str>,
        identifier: &Value,
    ) -> Result<Option<&'a Value>, ()> {
        let value = identifier["value"].as_str();
        let system = identifier["system"].as_str();
        let Some(wanted) = value else {
            return Ok(None);
        };
        let Some(candidates) = self.carrying(wanted) else {
            return Err(());
        };
        let mut matches = candidates
            .filter(|r| kind.is_none_or(|k| r["resourceType"] == k))
            .filter(|r| {
                r["identifier"].as_array().is_some_and(|ids| {
                    ids.iter().any(|i| {
                        i["value"].as_str() == value
                            && (system.is_none() || i["system"].as_str() == system)
                    })
                })
            });
        match (matches.next(), matches.next()) {
            (Some(found), None) => Ok(Some(found)),
            (Some(_), Some(_)) => Err(()),
            (None, _) => Ok(None),
        }
    }

    /// The resource whose entry's `fullUrl` is `url` (the last, should several be).
    fn url(&self, url: &str) -> Option<&'a Value> {
        match self.stored {
            Some(bundle) => bundle.by_url(url),
            None => self.by_url.get(url).copied(),
        }
    }

    /// The resource of type `kind` with id `id`: `Some(None)` when differing resources
    /// share them, `None` when none has them.
    fn id(&self, kind: &str, id: &str) -> Option<Option<&'a Value>> {
        match self.stored {
            Some(bundle) => bundle.by_id(kind, id),
            None => self.by_id.get(&(kind, id)).copied(),
        }
    }

    /// In input order, every resource that may carry an identifier of value `value` (the
    /// callers look at each): all of them in memory; of a stored Bundle, those its index
    /// names for the value, `None` when too many do to name one.
    fn carrying(&self, value: &str) -> Option<Box<dyn Iterator<Item = &'a Value> + '_>> {
        Some(match self.stored {
            Some(bundle) => Box::new(bundle.carrying(value)?.into_iter()),
            None => Box::new(self.all.iter().copied()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle() -> Value {
        json!({
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                { "fullUrl": "urn:uuid:7f1a", "resource": { "resourceType": "Patient", "id": "p1",
                    "identifier": [{ "system": "http://hospital.example/mrn", "value": "M1" }] } },
                { "fullUrl": "http://ehr.example/fhir/Organization/o1", "resource": { "resourceType": "Organization", "id": "o1",
                    "identifier": [{ "system": "http://hl7.org/fhir/sid/us-npi", "value": "1912301953" }] } },
                { "resource": { "resourceType": "Claim", "id": "c1",
                    "contained": [{ "resourceType": "Coverage", "id": "cov" }] } }
            ]
        })
    }

    #[test]
    fn every_reference_form_resolves_within_the_bundle() {
        let input = bundle();
        let index = Resources::of(&input);
        let claim = &input["entry"][2]["resource"];
        let found = |r: Value| match index.resolve(Box::leak(Box::new(r)), claim, claim) {
            Ok(Resolved::Found(v)) => v["id"].as_str().map(str::to_string),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            found(json!({"reference": "urn:uuid:7f1a"})).as_deref(),
            Some("p1")
        );
        assert_eq!(
            found(json!({"reference": "Patient/p1"})).as_deref(),
            Some("p1")
        );
        assert_eq!(
            found(json!({"reference": "Patient/p1/_history/3"})).as_deref(),
            Some("p1")
        );
        assert_eq!(
            found(json!({"reference": "https://other.example/fhir/Organization/o1"})).as_deref(),
            Some("o1")
        );
        assert_eq!(
            found(json!({"reference": "Patient?identifier=http://hospital.example/mrn|M1"}))
                .as_deref(),
            Some("p1")
        );
        assert_eq!(found(json!({"reference": "#cov"})).as_deref(), Some("cov"));
        assert_eq!(
            found(json!({"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1912301953"}}))
                .as_deref(),
            Some("o1")
        );
    }

    #[test]
    fn what_does_not_resolve_says_which_reference_failed() {
        let input = bundle();
        let index = Resources::of(&input);
        let claim = &input["entry"][2]["resource"];
        let missing = json!({"reference": "Patient/p2"});
        let err = index.resolve(&missing, claim, claim).unwrap_err();
        assert_eq!(err, Unresolved::Missing("Patient/p2".into()));
        assert!(err.explain("Claim.patient").contains("\"Patient/p2\""));
        let absent = Value::Null;
        assert_eq!(
            index.resolve(&absent, claim, claim).unwrap_err(),
            Unresolved::Absent
        );
        let logical = json!({"identifier": {"value": "60054"}});
        assert!(matches!(
            index.resolve(&logical, claim, claim),
            Ok(Resolved::Logical(_))
        ));
    }
}
