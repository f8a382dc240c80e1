//! `hms translate` and `hms scrub`: thin glue over `hms-core`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use hms_core::claim::{Contact, ProfessionalClaim, Receiver, Submitter};
use hms_core::eligibility::{EligibilityInquiry, inquiry_270};
use hms_core::fhir_claim::{fhirpath_of, professional_from_fhir};
use hms_core::outcome::OperationOutcome;
use hms_core::partner::{ControlNumbers, Envelope, TradingPartner, Usage};
use hms_core::scrub::{
    parse_institutional, parse_json, parse_professional, scrub_institutional, scrub_professional,
};
use hms_core::status::{StatusInquiry, inquiry_276};
use hms_core::x12::{institutional_837, professional_837};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// ASC X12 5010 (from our JSON).
    X12,
    /// Our JSON (from X12: 835, 271, 277).
    Json,
    /// FHIR R4 (from X12: an 835 as ExplanationOfBenefits, a 271 as
    /// CoverageEligibilityResponses, in a Bundle).
    Fhir,
    /// A 277CA for an 837P: each claim scrubbed, then accepted or rejected with the reason.
    #[value(name = "277ca")]
    ClaimAck,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransactionType {
    /// 837P professional claim (005010X222A1).
    #[value(name = "837P")]
    Professional,
    /// 837I institutional claim (005010X223A2).
    #[value(name = "837I")]
    Institutional,
    /// 270 eligibility inquiry (005010X279A1).
    #[value(name = "270")]
    Eligibility,
    /// 276 claim status inquiry (005010X212).
    #[value(name = "276")]
    Status,
}

/// `hms translate --to x12 --type 837P|837I INPUT.json`: scrub, then write the 837; a claim
/// with errors gets its OperationOutcome (stdout) and exit 1 instead.
pub fn translate(
    input: &Path,
    to: Target,
    kind: Option<TransactionType>,
    partner: Option<&PathBuf>,
    control: u32,
) -> Result<ExitCode> {
    let kind = match (to, kind) {
        (Target::Json, _) => return to_json(input),
        (Target::Fhir, _) => return to_fhir(input),
        (Target::ClaimAck, _) => return to_claim_ack(input, partner, control),
        (Target::X12, Some(kind)) => kind,
        (Target::X12, None) => bail!("--to x12 needs --type (837P, 837I, 270 or 276)"),
    };
    if control == 0 || control > 999_999_999 {
        bail!("--control must be 1 to 999999999");
    }
    let json = read(input)?;
    let now = chrono::Local::now().naive_local();
    let envelope = Envelope {
        control: ControlNumbers {
            interchange: control,
            group: control,
            transaction: 1,
        },
        created: now,
    };
    let x12 = match kind {
        TransactionType::Professional => {
            let (claim, fhir) = match professional(&json, partner)? {
                Ok(read) => read,
                Err(outcome) => return print_outcome(&outcome),
            };
            let outcome = scrub_professional(&claim, now.date());
            if outcome.has_errors() {
                return print_outcome(&in_terms_of(outcome, fhir));
            }
            let partner = partner_for(partner, &claim.receiver)?;
            professional_837(&claim, &partner, &envelope)?
        }
        TransactionType::Institutional => {
            let claim = match parse_institutional(&json) {
                Ok(claim) => claim,
                Err(outcome) => return print_outcome(&outcome),
            };
            let outcome = scrub_institutional(&claim, now.date());
            if outcome.has_errors() {
                return print_outcome(&outcome);
            }
            let partner = partner_for(partner, &claim.receiver)?;
            institutional_837(&claim, &partner, &envelope)?
        }
        TransactionType::Eligibility => {
            let fhir = serde_json::from_slice::<serde_json::Value>(&json)
                .ok()
                .filter(|v| v["resourceType"] == "CoverageEligibilityRequest");
            let parsed = match fhir {
                Some(request) => hms_core::fhir_eligibility::inquiry_from_fhir(&request),
                None => parse_json::<EligibilityInquiry>(&json),
            };
            let inquiry = match parsed {
                Ok(inquiry) => inquiry,
                Err(outcome) => return print_outcome(&outcome),
            };
            let receiver = Receiver {
                name: inquiry.payer.name.clone(),
                id: inquiry.payer.id.to_string(),
            };
            let partner = partner_for(partner, &receiver)?;
            inquiry_270(&inquiry, &partner, &envelope)?
        }
        TransactionType::Status => {
            let inquiry: StatusInquiry = match parse_json(&json) {
                Ok(inquiry) => inquiry,
                Err(outcome) => return print_outcome(&outcome),
            };
            let receiver = Receiver {
                name: inquiry.payer.name.clone(),
                id: inquiry.payer.id.to_string(),
            };
            let partner = partner_for(partner, &receiver)?;
            inquiry_276(&inquiry, &partner, &envelope)?
        }
    };
    use std::io::Write;
    std::io::stdout().write_all(&x12)?;
    Ok(ExitCode::SUCCESS)
}

/// The trading partner from `path`, or a test partner addressed to the claim's receiver.
fn partner_for(path: Option<&PathBuf>, receiver: &Receiver) -> Result<TradingPartner> {
    match path {
        Some(path) => serde_json::from_slice(&read(path)?)
            .with_context(|| format!("{}: not a trading-partner configuration", path.display())),
        None => Ok(TradingPartner {
            sender_qualifier: "ZZ".into(),
            sender_id: "HMSACH".into(),
            receiver_qualifier: "ZZ".into(),
            receiver_id: receiver.id.chars().take(15).collect(),
            application_sender: "HMSACH".into(),
            application_receiver: receiver.id.clone(),
            usage: Usage::Test,
            ack_requested: false,
            submitter: None,
        }),
    }
}

/// `hms translate --to json FILE`: every 835 in the file as our JSON remittance, every 271 as
/// our eligibility view, or every 277 as claim statuses (an array in each case).
fn to_json(input: &Path) -> Result<ExitCode> {
    let catalog = hms_x12::spec::Catalog::embedded()
        .map_err(|e| anyhow::anyhow!("built-in guides are defective: {e}"))?;
    let x12 = read(input)?;
    let sets: Vec<String> = hms_x12::Tokenizer::new(&x12)
        .flatten()
        .filter(|s| s.id() == b"ST")
        .map(|s| String::from_utf8_lossy(s.value(1)).into_owned())
        .collect();
    let json = if sets.iter().any(|s| s == "835") {
        hms_core::remit::read_835(&x12, catalog)
            .map(|r| serde_json::to_string_pretty(&r))
            .map_err(|e| e.to_string())
    } else if sets.iter().any(|s| s == "271") {
        hms_core::eligibility::read_271(&x12, catalog)
            .map(|r| serde_json::to_string_pretty(&r))
            .map_err(|e| e.to_string())
    } else if sets.iter().any(|s| s == "277") {
        hms_core::status::read_277(&x12, catalog)
            .map(|r| serde_json::to_string_pretty(&r))
            .map_err(|e| e.to_string())
    } else {
        Err(format!(
            "no 835, 271 or 277 transaction set to translate (found: {})",
            if sets.is_empty() {
                "none".into()
            } else {
                sets.join(", ")
            }
        ))
    };
    match json {
        Ok(text) => {
            println!("{}", text?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("hms: {}: {e}", input.display());
            Ok(ExitCode::from(1))
        }
    }
}

/// `hms translate --to fhir FILE`: for an 835, a Bundle with one ExplanationOfBenefit per
/// claim payment; for a 271, one CoverageEligibilityResponse per member.
fn to_fhir(input: &Path) -> Result<ExitCode> {
    let catalog = hms_x12::spec::Catalog::embedded()
        .map_err(|e| anyhow::anyhow!("built-in guides are defective: {e}"))?;
    let x12 = read(input)?;
    let is_271 = hms_x12::Tokenizer::new(&x12)
        .flatten()
        .any(|s| s.id() == b"ST" && s.value(1) == b"271");
    if is_271 {
        return match hms_core::eligibility::read_271(&x12, catalog) {
            Ok(responses) => {
                let today = chrono::Local::now().date_naive();
                let bundle = hms_core::fhir_eligibility::responses_to_fhir(&responses, today);
                println!("{}", serde_json::to_string_pretty(&bundle)?);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("hms: {}: {e}", input.display());
                Ok(ExitCode::from(1))
            }
        };
    }
    match hms_core::remit::read_835(&x12, catalog) {
        Ok(remits) => {
            let bundle = hms_core::fhir::remittance_bundle(&remits);
            println!("{}", serde_json::to_string_pretty(&bundle)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("hms: {}: {e}", input.display());
            Ok(ExitCode::from(1))
        }
    }
}

/// `hms translate --to 277ca FILE.837`: every claim of the 837P scrubbed, and the 277CA that
/// accepts or rejects each.
fn to_claim_ack(input: &Path, partner: Option<&PathBuf>, control: u32) -> Result<ExitCode> {
    let catalog = hms_x12::spec::Catalog::embedded()
        .map_err(|e| anyhow::anyhow!("built-in guides are defective: {e}"))?;
    let x12 = read(input)?;
    let claims = match hms_core::x12::read_837p(&x12, catalog) {
        Ok(claims) => claims,
        Err(e) => {
            eprintln!("hms: {}: {e}", input.display());
            return Ok(ExitCode::from(1));
        }
    };
    let now = chrono::Local::now().naive_local();
    let outcomes: Vec<OperationOutcome> = claims
        .iter()
        .map(|c| scrub_professional(c, now.date()))
        .collect();
    let batch: Vec<hms_core::x12::Reviewed<'_>> = claims
        .iter()
        .zip(&outcomes)
        .map(|(claim, outcome)| hms_core::x12::Reviewed { claim, outcome })
        .collect();
    let Some(first) = claims.first() else {
        bail!("{}: the 837P holds no claims", input.display());
    };
    // Addressed back to the submitter.
    let submitter = Receiver {
        name: first.submitter.name.clone(),
        id: first.submitter.id.clone(),
    };
    let partner = partner_for(partner, &submitter)?;
    let reference = hms_x12::Tokenizer::new(&x12)
        .flatten()
        .find(|s| s.id() == b"BHT")
        .map(|s| String::from_utf8_lossy(s.value(3)).into_owned())
        .unwrap_or_else(|| "UNKNOWN".into());
    let source = hms_core::x12::InformationSource {
        name: "HMS-ACH".into(),
        id: partner.sender_id.clone(),
    };
    let envelope = Envelope {
        control: ControlNumbers {
            interchange: control,
            group: control,
            transaction: 1,
        },
        created: now,
    };
    let ack = hms_core::x12::claim_acknowledgment(
        &batch,
        &source,
        &reference,
        now.date(),
        &partner,
        &envelope,
    )?;
    use std::io::Write;
    std::io::stdout().write_all(&ack)?;
    Ok(ExitCode::SUCCESS)
}

/// `hms scrub INPUT.json`: the OperationOutcome on stdout; exit 0 clean, 1 with errors. The
/// input is a FHIR `Claim` or our JSON professional claim; expressions are FHIRPath or JSON
/// pointers accordingly.
pub fn scrub(input: &Path) -> Result<ExitCode> {
    let json = read(input)?;
    let outcome = match professional(&json, None)? {
        Ok((claim, fhir)) => in_terms_of(
            scrub_professional(&claim, chrono::Local::now().date_naive()),
            fhir,
        ),
        Err(outcome) => outcome,
    };
    print_outcome(&outcome)
}

/// A professional claim from a FHIR `Claim` or our JSON (told apart by `resourceType`), and
/// whether it was FHIR. The submitter of a FHIR claim is the partner's, or ours by default.
fn professional(
    json: &[u8],
    partner: Option<&PathBuf>,
) -> Result<Result<(ProfessionalClaim, bool), OperationOutcome>> {
    let value: serde_json::Value = match serde_json::from_slice(json) {
        Ok(value) => value,
        // Not JSON at all: our parser reports where.
        Err(_) => return Ok(parse_professional(json).map(|c| (c, false))),
    };
    if value["resourceType"] != "Claim" {
        return Ok(parse_professional(json).map(|c| (c, false)));
    }
    let payer = value["contained"]
        .as_array()
        .and_then(|list| {
            let id = value["insurer"]["reference"].as_str()?.strip_prefix('#')?;
            list.iter().find(|r| r["id"].as_str() == Some(id))
        })
        .and_then(|p| p["identifier"][0]["value"].as_str())
        .unwrap_or("UNKNOWN")
        .to_string();
    let receiver = Receiver {
        name: payer.clone(),
        id: payer,
    };
    let configured = match partner {
        Some(path) => partner_for(Some(path), &receiver)?.submitter,
        None => None,
    };
    let submitter = configured.unwrap_or_else(|| Submitter {
        name: "HMS-ACH".into(),
        id: "HMSACH".into(),
        contact: Contact {
            name: "HMS-ACH EDI SUPPORT".into(),
            phone: None,
            email: Some("edi@hms-ach.example".into()),
        },
    });
    Ok(professional_from_fhir(&value, &submitter, &receiver).map(|c| (c, true)))
}

/// Scrubber issues point with JSON pointers; for a FHIR input they become FHIRPath.
fn in_terms_of(mut outcome: OperationOutcome, fhir: bool) -> OperationOutcome {
    if fhir {
        for issue in &mut outcome.issue {
            for expression in &mut issue.expression {
                *expression = fhirpath_of(expression);
            }
        }
    }
    outcome
}

fn print_outcome(outcome: &OperationOutcome) -> Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(outcome)?);
    Ok(if outcome.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = vec![];
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}
