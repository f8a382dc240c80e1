//! The 277CA (005010X214) a clearinghouse sends back for a batch of claims: each claim accepted
//! into processing, or rejected with the reason the scrubber found, with counts and totals per
//! submitter and per billing provider.

use chrono::NaiveDate;
use hms_x12::writer::{Field, InterchangeWriter, WriteError};
use rust_decimal::Decimal;

use crate::claims::claim::Claim;
use crate::outcome::{Issue, OperationOutcome};
use crate::partner::{Envelope, TradingPartner};
use crate::write::{Opened, TranslateError, amount, nm1, open};

/// The implementation guide of the 277CA.
pub const VERSION: &str = "005010X214";

/// Who sends the acknowledgment (loop 2100A): the clearinghouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformationSource {
    /// Name.
    pub name: String,
    /// Its ETIN (NM109, qualifier 46).
    pub id: String,
}

/// One claim of the batch and what the scrubber said of it.
#[derive(Debug, Clone, Copy)]
pub struct Reviewed<'a> {
    /// The claim.
    pub claim: &'a Claim,
    /// The scrubber's outcome: errors reject the claim.
    pub outcome: &'a OperationOutcome,
}

/// Writes the 277CA for `batch`, received on `received` under the batch reference
/// `reference` (the 837's BHT03 or ISA13).
pub fn claim_acknowledgment(
    batch: &[Reviewed<'_>],
    source: &InformationSource,
    reference: &str,
    received: NaiveDate,
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<Vec<u8>, TranslateError> {
    let fail = |source| TranslateError::Write {
        field: String::new(),
        source,
    };
    // As before the shared opener: a 277CA asks for no TA1, whatever the partner's setting.
    let partner = TradingPartner {
        ack_requested: false,
        ..partner.clone()
    };
    let Opened { mut w, date, time } =
        open(&partner, envelope, "HN", "277", VERSION).map_err(fail)?;
    w.simple("BHT", &["0085", "08", reference, &date, &time, "TH"])
        .map_err(fail)?;
    // 2000A information source.
    w.simple("HL", &["1", "", "20", "1"]).map_err(fail)?;
    w.simple(
        "NM1",
        &["AY", "2", &source.name, "", "", "", "", "46", &source.id],
    )
    .map_err(fail)?;
    w.simple("TRN", &["1", reference]).map_err(fail)?;
    let received = crate::write::ccyymmdd(received);
    w.simple("DTP", &["050", "D8", &received]).map_err(fail)?;
    w.simple("DTP", &["009", "D8", &date]).map_err(fail)?;

    // 2000B information receiver: the submitter, with the batch's counts and totals.
    let Some(first) = batch.first() else {
        return Err(TranslateError::Missing {
            field: String::new(),
            message: "a 277CA acknowledges at least one claim".into(),
        });
    };
    w.simple("HL", &["2", "1", "21", "1"]).map_err(fail)?;
    let submitter = first.claim.submitter();
    w.simple(
        "NM1",
        &[
            "41",
            "2",
            &submitter.name,
            "",
            "",
            "",
            "",
            "46",
            &submitter.id,
        ],
    )
    .map_err(fail)?;
    w.simple("TRN", &["2", reference]).map_err(fail)?;
    let total: Decimal = batch.iter().map(|r| r.claim.total_charge()).sum();
    w.segment(
        "STC",
        &[
            Field::Composite(vec!["A1", "19"]),
            Field::Simple(&date),
            Field::Simple("WQ"),
            Field::Simple(&amount(total)),
        ],
    )
    .map_err(fail)?;
    counts(&mut w, batch, ("90", "AA")).map_err(fail)?;

    // 2000C billing providers, each with its claims (2000D).
    let mut hl = 2;
    let providers = billing_npis(batch);
    for npi in providers {
        let claims: Vec<Reviewed<'_>> = batch
            .iter()
            .copied()
            .filter(|r| billing_npi(r.claim) == npi)
            .collect();
        let Some(first) = claims.first() else {
            continue;
        };
        hl += 1;
        let provider_hl = hl.to_string();
        w.simple("HL", &[&provider_hl, "2", "19", "1"])
            .map_err(fail)?;
        let billing = first.claim.billing_provider();
        w.simple("NM1", &nm1("85", &billing.name, "XX", npi))
            .map_err(fail)?;
        w.simple("TRN", &["1", npi]).map_err(fail)?;
        let provider_total: Decimal = claims.iter().map(|r| r.claim.total_charge()).sum();
        w.segment(
            "STC",
            &[
                Field::Composite(vec!["A1", "19"]),
                Field::Simple(""),
                Field::Simple("WQ"),
                Field::Simple(&amount(provider_total)),
            ],
        )
        .map_err(fail)?;
        counts(&mut w, &claims, ("QA", "QC")).map_err(fail)?;
        for r in &claims {
            hl += 1;
            w.simple("HL", &[&hl.to_string(), &provider_hl, "PT"])
                .map_err(fail)?;
            claim_status(&mut w, r, &date, &received).map_err(fail)?;
        }
    }
    w.end_transaction()
        .and_then(|()| w.end_group())
        .map_err(fail)?;
    w.finish().map_err(fail)
}

/// The billing provider's NPI a claim is acknowledged under: a claim without one is rejected
/// by the scrubber and acknowledged under an empty id.
fn billing_npi(claim: &Claim) -> &str {
    claim
        .billing_provider()
        .npi
        .as_ref()
        .map_or("", |n| n.as_str())
}

/// The batch's billing providers by NPI, in the order they first appear: one 2000C each.
fn billing_npis<'a>(batch: &[Reviewed<'a>]) -> Vec<&'a str> {
    let mut providers: Vec<&str> = vec![];
    for r in batch {
        let npi = billing_npi(r.claim);
        if !providers.contains(&npi) {
            providers.push(npi);
        }
    }
    providers
}

/// Loop 2000D of one claim after its HL: the patient, the claim's number, its status (accepted,
/// or rejected with the scrubber's first error) and its service dates.
fn claim_status(
    w: &mut InterchangeWriter,
    r: &Reviewed<'_>,
    date: &str,
    received: &str,
) -> Result<(), WriteError> {
    let c = r.claim;
    let patient_name = c.patient().map_or(&c.subscriber().name, |p| &p.name);
    w.simple(
        "NM1",
        &nm1("QC", patient_name, "MI", c.subscriber().member_id.as_str()),
    )?;
    w.simple("TRN", &["2", c.patient_control_number().as_str()])?;
    let charge = amount(c.total_charge());
    let error = r
        .outcome
        .issue
        .iter()
        .find(|i| i.severity <= crate::outcome::IssueSeverity::Error);
    match error {
        None => w.segment(
            "STC",
            &[
                Field::Composite(vec!["A2", "20"]),
                Field::Simple(date),
                Field::Simple("WQ"),
                Field::Simple(&charge),
            ],
        ),
        Some(issue) => {
            // STC12 carries the scrubber's message (264 characters at most).
            let reason: String = format!(
                "{} ({})",
                issue.details.text,
                issue.expression.first().map(String::as_str).unwrap_or("")
            )
            .chars()
            .filter(|ch| !matches!(ch, '*' | '~' | ':' | '^'))
            .take(264)
            .collect();
            let (status, entity) = status_of(issue);
            let mut code = vec!["A7", status];
            code.extend(entity);
            w.segment(
                "STC",
                &[
                    Field::Composite(code),
                    Field::Simple(date),
                    Field::Simple("U"),
                    Field::Simple(&charge),
                    Field::Simple(""),
                    Field::Simple(""),
                    Field::Simple(""),
                    Field::Simple(""),
                    Field::Simple(""),
                    Field::Simple(""),
                    Field::Simple(""),
                    Field::Simple(&reason),
                ],
            )
        }
    }?;
    let service = match c.service_period() {
        Some((f, l)) if f != l => (
            "RD8",
            format!(
                "{}-{}",
                crate::write::ccyymmdd(f),
                crate::write::ccyymmdd(l)
            ),
        ),
        Some((f, _)) => ("D8", crate::write::ccyymmdd(f)),
        None => ("D8", received.to_string()),
    };
    w.simple("DTP", &["472", service.0, &service.1])?;
    Ok(())
}

/// QTY and AMT of accepted and rejected claims (qualifiers differ by level).
fn counts(
    w: &mut InterchangeWriter,
    claims: &[Reviewed<'_>],
    (accepted_qty, rejected_qty): (&str, &str),
) -> Result<(), hms_x12::writer::WriteError> {
    let (accepted, rejected): (Vec<_>, Vec<_>) =
        claims.iter().partition(|r| !r.outcome.has_errors());
    let sum =
        |list: &[&Reviewed<'_>]| -> Decimal { list.iter().map(|r| r.claim.total_charge()).sum() };
    if !accepted.is_empty() {
        w.simple("QTY", &[accepted_qty, &accepted.len().to_string()])?;
    }
    if !rejected.is_empty() {
        w.simple("QTY", &[rejected_qty, &rejected.len().to_string()])?;
    }
    if !accepted.is_empty() {
        w.simple("AMT", &["YU", &amount(sum(&accepted))])?;
    }
    if !rejected.is_empty() {
        w.simple("AMT", &["YY", &amount(sum(&rejected))])?;
    }
    Ok(())
}

/// The claim status code (code source 508) and, where the code is about a party, its entity
/// identifier (STC01-3) for the scrubber finding that rejects a claim, so the submitter's system
/// can route the rejection without reading the text in STC12. 21 (missing or invalid
/// information) where no narrower code fits.
fn status_of(issue: &Issue) -> (&'static str, Option<&'static str>) {
    let at = issue.expression.first().map(String::as_str).unwrap_or("");
    let entity = match at.split('/').nth(1) {
        Some("billingProvider") => Some("85"),
        Some("renderingProvider") => Some("82"),
        Some("referringProvider") => Some("DN"),
        Some("attendingProvider") => Some("71"),
        Some("operatingProvider") => Some("72"),
        Some("subscriber") => Some("IL"),
        Some("patient") => Some("QC"),
        _ => None,
    };
    match issue.diagnostics.as_deref().unwrap_or("") {
        // Entity's National Provider Identifier (NPI).
        "npi-check-digit" | "billing-npi" if entity.is_some() => ("562", entity),
        // Entity's specialty/taxonomy code.
        "taxonomy-shape" if entity.is_some() => ("145", entity),
        // Entity's date of birth.
        "birth-in-future" if entity.is_some() => ("158", entity),
        // Submitted charges.
        "charge-total" | "line-charge" => ("178", None),
        // Date(s) of service.
        "service-in-future"
        | "service-before-birth"
        | "service-date-required"
        | "service-outside-statement" => ("187", None),
        // Procedure code for services rendered.
        "procedure-shape" => ("454", None),
        // Procedure code modifier(s) for service(s) rendered.
        "modifier-shape"
        | "modifier-count"
        | "modifier-repeated"
        | "modifier-without-procedure" => ("453", None),
        // Diagnosis code.
        "icd10-shape"
        | "icd9-shape"
        | "icd9-after-icd10-date"
        | "diagnosis-required"
        | "diagnosis-repeated"
        | "diagnosis-count" => ("255", None),
        _ => ("21", None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed expectation is the test failing

    use super::*;
    use crate::outcome::{Details, IssueSeverity, IssueType};

    fn issue(id: &str, at: &str) -> Issue {
        Issue {
            severity: IssueSeverity::Error,
            code: IssueType::Value,
            diagnostics: Some(id.into()),
            details: Details { text: "x".into() },
            expression: vec![at.into()],
        }
    }

    /// The codes of one code list in pyx12's `codes.xml` (`../shared/x12-specs`).
    fn pyx12_codes(list: &str) -> Vec<String> {
        let xml = std::fs::read_to_string(hms_test_support::x12_specs().join("codes.xml")).unwrap();
        let start = xml.find(&format!("<id>{list}</id>")).unwrap();
        let (_, from) = xml.split_at(start);
        let end = from.find("</codeset>").unwrap();
        from.split_at(end)
            .0
            .split("<code>")
            .skip(1)
            .filter_map(|c| c.split("</code>").next())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn rejections_carry_codes_from_the_508_and_entity_lists() {
        let statuses = pyx12_codes("claim_status");
        let entities = pyx12_codes("entity_id");
        assert!(statuses.len() > 500 && entities.len() > 100);
        let cases = [
            (
                "npi-check-digit",
                "/renderingProvider/npi",
                "562",
                Some("82"),
            ),
            ("npi-check-digit", "/billingProvider/npi", "562", Some("85")),
            ("billing-npi", "/billingProvider/npi", "562", Some("85")),
            (
                "taxonomy-shape",
                "/attendingProvider/taxonomy",
                "145",
                Some("71"),
            ),
            ("birth-in-future", "/patient/birthDate", "158", Some("QC")),
            ("charge-total", "/claim/totalCharge", "178", None),
            (
                "service-in-future",
                "/serviceLines/1/serviceDate",
                "187",
                None,
            ),
            (
                "procedure-shape",
                "/serviceLines/0/procedureCode",
                "454",
                None,
            ),
            ("modifier-shape", "/serviceLines/0/modifiers/0", "453", None),
            ("icd10-shape", "/claim/diagnoses/1", "255", None),
            ("cob-paid-total", "/otherCoverage/0/paid", "21", None),
        ];
        for (id, at, status, entity) in cases {
            let got = status_of(&issue(id, at));
            assert_eq!(got, (status, entity), "{id} at {at}");
            assert!(statuses.iter().any(|s| s == got.0), "{status} not in 508");
            if let Some(e) = got.1 {
                assert!(entities.iter().any(|c| c == e), "{e} not an entity code");
            }
        }
    }
}
