//! Claims as callers send them: our JSON (one claim, or an array of them) or FHIR (a `Claim`,
//! or a `Bundle` of Claims), professional or institutional. The service reads one claim a
//! request; the CLI reads batches. Both read here, and both point at a finding the same way:
//! a JSON pointer into our JSON, FHIRPath into FHIR, led by the claim's index in a batch.
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics; slices and strings are read with get"
)]

use chrono::NaiveDate;
use serde_json::Value;

use crate::claims::claim::{Claim, ClaimKind};
use crate::claims::fhir::fhirpath_of;
use crate::claims::scrub::{Profile, scrub};
use crate::outcome::{Details, Issue, IssueSeverity, IssueType, OperationOutcome};
use crate::party::Submitter;
use crate::request::{Format, RequestError, json_body, problem};

/// One claim from a request body: a FHIR `Claim` (sent on by `submitter`) or our JSON, of the
/// kind it says it is ([`ClaimKind::of`]).
pub fn read_claim(body: &[u8], submitter: &Submitter) -> Result<(Claim, Format), RequestError> {
    let value = json_body(body)?;
    if value["resourceType"] == "Claim" {
        return Claim::from_fhir(&value, submitter)
            .map(|claim| (claim, Format::Fhir))
            .map_err(RequestError::Invalid);
    }
    if value.get("resourceType").is_some() {
        return Err(RequestError::Invalid(problem(
            IssueType::NotSupported,
            "resource-type",
            format!(
                "a {} cannot be submitted as a claim: send a FHIR Claim or our JSON claim",
                value["resourceType"]
            ),
        )));
    }
    Claim::from_json(body, ClaimKind::of(&value))
        .map(|claim| (claim, Format::Json))
        .map_err(RequestError::Invalid)
}

/// Claims as one input holds them, with what it takes to point into that input.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The claims, in input order.
    pub claims: Vec<Claim>,
    /// FHIR input: findings become FHIRPath.
    pub format: Format,
    /// More than one claim: findings name the claim (`/2/...`, `Bundle.entry[2].resource...`).
    pub batch: bool,
}

impl Batch {
    /// Every claim of `json`. `kind` forces one kind on every claim (a claim that is not of
    /// it is refused where it stands); without it each claim is of the kind it says it is.
    /// FHIR claims are sent on by `submitter`.
    pub fn read(
        json: &[u8],
        kind: Option<ClaimKind>,
        submitter: &Submitter,
    ) -> Result<Self, OperationOutcome> {
        let one = |json: &[u8], value: Option<&Value>| {
            let kind = kind.unwrap_or_else(|| value.map_or(ClaimKind::Professional, ClaimKind::of));
            Claim::from_json(json, kind)
        };
        let Ok(value) = serde_json::from_slice::<Value>(json) else {
            // Not JSON at all: the parser reports where.
            return one(json, None).map(Self::single);
        };
        let (items, format) = match &value {
            Value::Array(items) => (items.clone(), Format::Json),
            v if v["resourceType"] == "Bundle" => (
                v["entry"]
                    .as_array()
                    .map(|e| e.iter().map(|e| e["resource"].clone()).collect())
                    .unwrap_or_default(),
                Format::Fhir,
            ),
            v if v["resourceType"] == "Claim" => (vec![value.clone()], Format::Fhir),
            v => return one(json, Some(v)).map(Self::single),
        };
        let mut read = Self {
            claims: Vec::with_capacity(items.len()),
            format,
            batch: matches!(value, Value::Array(_)) || value["resourceType"] == "Bundle",
        };
        if items.is_empty() {
            return Err(OperationOutcome::new(vec![Issue {
                severity: IssueSeverity::Error,
                code: IssueType::Required,
                diagnostics: Some("no-claims".into()),
                details: Details {
                    text: "the input holds no claims".into(),
                },
                expression: vec![],
            }]));
        }
        let mut issues = vec![];
        for (i, item) in items.iter().enumerate() {
            let parsed = match format {
                Format::Fhir => Claim::from_fhir_as(
                    item,
                    kind.unwrap_or_else(|| ClaimKind::of(item)),
                    submitter,
                ),
                // A Value always serializes; should it not, the parser reports the empty input.
                Format::Json => one(&serde_json::to_vec(item).unwrap_or_default(), Some(item)),
            };
            match parsed {
                Ok(claim) => read.claims.push(claim),
                Err(outcome) => issues.extend(read.locate(i, outcome, false)),
            }
        }
        if issues.is_empty() {
            Ok(read)
        } else {
            Err(OperationOutcome::new(issues))
        }
    }

    /// One claim of our JSON.
    fn single(claim: Claim) -> Self {
        Self {
            claims: vec![claim],
            format: Format::Json,
            batch: false,
        }
    }

    /// The findings of `outcome` (about claim `index`) in terms of the input: FHIRPath for
    /// FHIR when they point into the model (`scrubbed`; a reader's findings already point
    /// into the FHIR), and led by the claim's place in a batch. The scrubber's `all-ok` is
    /// left out.
    pub fn locate(&self, index: usize, outcome: OperationOutcome, scrubbed: bool) -> Vec<Issue> {
        let fhir = self.format == Format::Fhir;
        outcome
            .issue
            .into_iter()
            .filter(|i| i.diagnostics.as_deref() != Some("all-ok"))
            .map(|mut issue| {
                for e in &mut issue.expression {
                    if fhir && scrubbed {
                        *e = fhirpath_of(e);
                    }
                    if self.batch {
                        *e = match e.strip_prefix("Claim") {
                            Some(rest) if fhir => format!("Bundle.entry[{index}].resource{rest}"),
                            _ => format!("/{index}{e}"),
                        };
                    }
                }
                issue
            })
            .collect()
    }

    /// Every claim through the scrubber, the findings in one outcome.
    pub fn scrub(&self, today: NaiveDate) -> OperationOutcome {
        self.scrub_with(today, &Profile::default())
    }

    /// Every claim through the edits `profile` leaves on, the findings in one outcome.
    pub fn scrub_with(&self, today: NaiveDate, profile: &Profile) -> OperationOutcome {
        let issues = self
            .claims
            .iter()
            .enumerate()
            .flat_map(|(i, claim)| self.locate(i, scrub(claim, today, profile), true))
            .collect();
        OperationOutcome::new(issues)
    }
}
