//! An [`InstitutionalClaim`] as an 837I (005010X223A2), in the loop order of the TR3.

use hms_x12::writer::Field;

use crate::claims::model::DiagnosisCodes;
use crate::claims::model::{
    CodedEvent, InstitutionalClaim, InstitutionalClaimInformation, InstitutionalLine,
};
use crate::claims::write_837::{Out, diagnosis_code};
use crate::write::{TranslateError, amount};

/// The implementation guide the 837I is written to (GS08, ST03).
pub const VERSION: &str = "005010X223A2";

/// Loop 2300 and everything below it for one claim.
pub(crate) fn claim_loop(out: &mut Out, claim: &InstitutionalClaim) -> Result<(), TranslateError> {
    let c = &claim.claim;
    // 2300 claim.
    out.clm(
        c.patient_control_number.as_str(),
        c.total_charge,
        [&c.facility_type, "A", &c.frequency],
        [
            "",
            &c.assignment,
            &c.benefits_assignment,
            &c.release_of_information,
        ],
        &[],
    )?;
    if let Some(hour) = &c.discharge_hour {
        out.simple("/claim/dischargeHour", "DTP", &["096", "TM", hour])?;
    }
    let period = format!(
        "{}-{}",
        crate::write::ccyymmdd(c.statement_from),
        crate::write::ccyymmdd(c.statement_to)
    );
    out.simple("/claim/statementFrom", "DTP", &["434", "RD8", &period])?;
    if let Some(admission) = &c.admission {
        let date = crate::write::ccyymmdd(admission.date);
        match &admission.hour {
            Some(hour) => {
                let when = format!("{date}{hour}");
                out.simple("/claim/admission", "DTP", &["435", "DT", &when])?;
            }
            None => out.simple("/claim/admission", "DTP", &["435", "D8", &date])?,
        }
    }
    let (type_code, source) = match &c.admission {
        Some(a) => (a.type_code.as_str(), a.source_code.as_deref().unwrap_or("")),
        None => ("", ""),
    };
    out.simple("/claim", "CL1", &[type_code, source, &c.patient_status])?;
    if let Some(referral) = &c.referral_number {
        out.simple("/claim/referralNumber", "REF", &["9F", referral])?;
    }
    if let Some(auth) = &c.prior_authorization {
        out.simple("/claim/priorAuthorization", "REF", &["G1", auth])?;
    }
    if let Some(number) = &c.payer_claim_number {
        out.simple("/claim/payerClaimNumber", "REF", &["F8", number])?;
    }

    codes(out, c)?;

    // 2310A attending, 2310B operating.
    if let Some(attending) = &claim.attending_provider {
        out.provider_name("/attendingProvider", "71", attending)?;
        if let Some(taxonomy) = &attending.taxonomy {
            out.simple(
                "/attendingProvider/taxonomy",
                "PRV",
                &["AT", "PXC", taxonomy],
            )?;
        }
    }
    if let Some(operating) = &claim.operating_provider {
        out.provider_name("/operatingProvider", "72", operating)?;
    }
    out.other_coverage(
        &claim.other_coverage,
        c.benefits_assignment == "Y",
        &c.release_of_information,
    )?;

    // 2400 service lines.
    for (i, line) in claim.service_lines.iter().enumerate() {
        service_line(out, i, line)?;
    }
    Ok(())
}

/// HI segments of `qualifier:code` composites, twelve per segment.
fn coded(
    out: &mut Out,
    field: &str,
    qualifier: &str,
    codes: &[String],
) -> Result<(), TranslateError> {
    for chunk in codes.chunks(12) {
        let fields: Vec<Field<'_>> = chunk
            .iter()
            .map(|code| Field::Composite(vec![qualifier, code]))
            .collect();
        out.segment(field, "HI", &fields)?;
    }
    Ok(())
}

/// HI segments of `qualifier:code:D8:date` composites, twelve per segment.
fn dated(
    out: &mut Out,
    field: &str,
    qualifier: &str,
    events: &[CodedEvent],
) -> Result<(), TranslateError> {
    let rendered: Vec<(String, String)> = events
        .iter()
        .map(|e| (diagnosis_code(&e.code), crate::write::ccyymmdd(e.date)))
        .collect();
    for chunk in rendered.chunks(12) {
        let fields: Vec<Field<'_>> = chunk
            .iter()
            .map(|(code, date)| Field::Composite(vec![qualifier, code, "D8", date]))
            .collect();
        out.segment(field, "HI", &fields)?;
    }
    Ok(())
}

/// The HI segments: diagnoses, procedures, occurrences, values and conditions, each its own
/// HI, twelve to a segment.
fn codes(out: &mut Out, c: &InstitutionalClaimInformation) -> Result<(), TranslateError> {
    let icd9 = c.diagnosis_codes == DiagnosisCodes::Icd9Cm;
    let pick = |ten: &'static str, nine: &'static str| if icd9 { nine } else { ten };
    let principal = diagnosis_code(&c.principal_diagnosis);
    if principal.is_empty() {
        return Err(out.missing(
            "/claim/principalDiagnosis",
            "the principal diagnosis is required (HI, ABK)",
        ));
    }
    out.segment(
        "/claim/principalDiagnosis",
        "HI",
        &[Field::Composite(vec![pick("ABK", "BK"), &principal])],
    )?;
    if let Some(admitting) = &c.admitting_diagnosis {
        let admitting = diagnosis_code(admitting);
        out.segment(
            "/claim/admittingDiagnosis",
            "HI",
            &[Field::Composite(vec![pick("ABJ", "BJ"), &admitting])],
        )?;
    }
    let others: Vec<String> = c
        .other_diagnoses
        .iter()
        .map(|d| diagnosis_code(d))
        .collect();
    coded(out, "/claim/otherDiagnoses", pick("ABF", "BF"), &others)?;
    if let Some(p) = &c.principal_procedure {
        dated(
            out,
            "/claim/principalProcedure",
            pick("BBR", "BR"),
            std::slice::from_ref(p),
        )?;
    }
    dated(
        out,
        "/claim/otherProcedures",
        pick("BBQ", "BQ"),
        &c.other_procedures,
    )?;
    dated(out, "/claim/occurrences", "BH", &c.occurrences)?;
    let values: Vec<(String, String)> = c
        .values
        .iter()
        .map(|v| (v.code.clone(), amount(v.amount)))
        .collect();
    for chunk in values.chunks(12) {
        let fields: Vec<Field<'_>> = chunk
            .iter()
            .map(|(code, value)| Field::Composite(vec!["BE", code, "", "", value]))
            .collect();
        out.segment("/claim/values", "HI", &fields)?;
    }
    coded(out, "/claim/conditions", "BG", &c.conditions)?;
    Ok(())
}

/// Loop 2400 for line `i`.
fn service_line(out: &mut Out, i: usize, line: &InstitutionalLine) -> Result<(), TranslateError> {
    let at = format!("/serviceLines/{i}");
    let number = (i + 1).to_string();
    out.simple(&at, "LX", &[&number])?;
    let procedure: Vec<&str> = match &line.procedure_code {
        Some(code) => std::iter::once("HC")
            .chain(std::iter::once(code.as_str()))
            .chain(line.modifiers.iter().map(String::as_str))
            .collect(),
        None => vec![],
    };
    let charge = amount(line.charge);
    let quantity = amount(line.quantity);
    out.segment(
        &at,
        "SV2",
        &[
            Field::Simple(&line.revenue_code),
            Field::Composite(procedure),
            Field::Simple(&charge),
            Field::Simple(&line.unit),
            Field::Simple(&quantity),
        ],
    )?;
    if let Some(date) = line.service_date {
        let date = crate::write::ccyymmdd(date);
        out.simple(&format!("{at}/serviceDate"), "DTP", &["472", "D8", &date])?;
    }
    if let Some(control) = &line.line_control_number {
        out.simple(&format!("{at}/lineControlNumber"), "REF", &["6R", control])?;
    }
    Ok(())
}
