//! A [`ProfessionalClaim`] as an 837P (005010X222A1): one interchange, one group, one
//! transaction set, in the loop order of the TR3.

use hms_x12::writer::Field;

use crate::claims::model::{ProfessionalClaim, ServiceLine};
use crate::claims::write_837::{Out, diagnosis_code};
use crate::write::{TranslateError, amount, yes_no};

/// The implementation guide the 837P is written to (GS08, ST03).
pub const VERSION: &str = "005010X222A1";

/// Loop 2300 and everything below it for one claim.
pub(crate) fn claim_loop(out: &mut Out, claim: &ProfessionalClaim) -> Result<(), TranslateError> {
    let c = &claim.claim;
    // 2300 claim.
    let mut related: Vec<&str> = c.related_causes.iter().map(String::as_str).collect();
    if let Some(state) = &c.accident_state {
        related.resize(3, "");
        related.push(state);
    }
    out.clm(
        c.patient_control_number.as_str(),
        c.total_charge,
        [&c.place_of_service, "B", &c.frequency],
        [
            yes_no(c.provider_signature_on_file),
            &c.assignment,
            yes_no(c.benefits_assigned),
            &c.release_of_information,
        ],
        &related,
    )?;
    if let Some(onset) = c.onset_date {
        let onset = crate::write::ccyymmdd(onset);
        out.simple("/claim/onsetDate", "DTP", &["431", "D8", &onset])?;
    }
    if let Some(accident) = c.accident_date {
        let accident = crate::write::ccyymmdd(accident);
        out.simple("/claim/accidentDate", "DTP", &["439", "D8", &accident])?;
    }
    if let Some(stay) = &c.hospitalization {
        let admitted = crate::write::ccyymmdd(stay.admitted);
        out.simple(
            "/claim/hospitalization/admitted",
            "DTP",
            &["435", "D8", &admitted],
        )?;
        if let Some(discharged) = stay.discharged {
            let discharged = crate::write::ccyymmdd(discharged);
            out.simple(
                "/claim/hospitalization/discharged",
                "DTP",
                &["096", "D8", &discharged],
            )?;
        }
    }
    if let Some(paid) = c.patient_paid {
        out.simple("/claim/patientPaid", "AMT", &["F5", &amount(paid)])?;
    }
    if let Some(referral) = &c.referral_number {
        out.simple("/claim/referralNumber", "REF", &["9F", referral])?;
    }
    if let Some(auth) = &c.prior_authorization {
        out.simple("/claim/priorAuthorization", "REF", &["G1", auth])?;
    }
    if let Some(number) = &c.payer_claim_number {
        out.simple("/claim/payerClaimNumber", "REF", &["F8", number])?;
    }
    ambulance_transport(out, claim)?;
    diagnoses(out, claim)?;

    // 2310A referring, 2310B rendering, 2310D supervising.
    if let Some(referring) = &claim.referring_provider {
        out.provider_name("/referringProvider", "DN", referring)?;
    }
    if let Some(rendering) = &claim.rendering_provider {
        out.provider_name("/renderingProvider", "82", rendering)?;
        if let Some(taxonomy) = &rendering.taxonomy {
            out.simple(
                "/renderingProvider/taxonomy",
                "PRV",
                &["PE", "PXC", taxonomy],
            )?;
        }
    }

    if let Some(supervising) = &claim.supervising_provider {
        out.provider_name("/supervisingProvider", "DQ", supervising)?;
    }

    // 2310E ambulance pick-up, 2310F drop-off.
    ambulance_places(out, claim)?;

    out.other_coverage(
        &claim.other_coverage,
        c.benefits_assigned,
        &c.release_of_information,
    )?;

    // 2400 service lines.
    for (i, line) in claim.service_lines.iter().enumerate() {
        service_line(out, i, line, &c.place_of_service)?;
    }
    Ok(())
}

/// CR1 and CRC: the ambulance transport, when the claim has one.
fn ambulance_transport(out: &mut Out, claim: &ProfessionalClaim) -> Result<(), TranslateError> {
    if let Some(amb) = &claim.ambulance {
        let weight = amb.patient_weight_pounds.map(amount);
        let (unit, weight) = match &weight {
            Some(w) => ("LB", w.as_str()),
            None => ("", ""),
        };
        let miles = amount(amb.miles);
        out.simple(
            "/ambulance",
            "CR1",
            &[
                unit,
                weight,
                "",
                &amb.reason,
                "DH",
                &miles,
                "",
                "",
                amb.round_trip_purpose.as_deref().unwrap_or(""),
                amb.stretcher_purpose.as_deref().unwrap_or(""),
            ],
        )?;
        for (k, cert) in amb.certifications.iter().enumerate() {
            let mut values = vec!["07", if cert.applies { "Y" } else { "N" }];
            values.extend(cert.conditions.iter().map(String::as_str));
            out.simple(&format!("/ambulance/certifications/{k}"), "CRC", &values)?;
        }
    }
    Ok(())
}

/// HI: the diagnoses, principal first.
fn diagnoses(out: &mut Out, claim: &ProfessionalClaim) -> Result<(), TranslateError> {
    let c = &claim.claim;
    let codes: Vec<String> = c.diagnoses.iter().map(|d| diagnosis_code(d)).collect();
    let (principal, other) = c.diagnosis_codes.qualifiers();
    let hi: Vec<Field<'_>> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| Field::Composite(vec![if i == 0 { principal } else { other }, code]))
        .collect();
    if hi.is_empty() {
        return Err(out.missing(
            "/claim/diagnoses",
            "at least one diagnosis is required (HI, principal diagnosis ABK)",
        ));
    }
    out.segment("/claim/diagnoses", "HI", &hi)?;
    Ok(())
}

/// Loops 2310E and 2310F: where the ambulance picked the patient up and dropped them off.
fn ambulance_places(out: &mut Out, claim: &ProfessionalClaim) -> Result<(), TranslateError> {
    if let Some(amb) = &claim.ambulance {
        out.simple("/ambulance/pickup", "NM1", &["PW", "2"])?;
        out.address("/ambulance/pickup", &amb.pickup)?;
        match &amb.dropoff_name {
            Some(name) => out.simple("/ambulance/dropoffName", "NM1", &["45", "2", name])?,
            None => out.simple("/ambulance/dropoff", "NM1", &["45", "2"])?,
        }
        out.address("/ambulance/dropoff", &amb.dropoff)?;
    }

    Ok(())
}

/// Loop 2400 (with 2410 and 2430) for line `i`; its place of service only when it is not the
/// claim's.
fn service_line(
    out: &mut Out,
    i: usize,
    line: &ServiceLine,
    claim_place: &str,
) -> Result<(), TranslateError> {
    let at = format!("/serviceLines/{i}");
    let number = (i + 1).to_string();
    out.simple(&at, "LX", &[&number])?;
    let mut procedure = vec!["HC", line.procedure_code.as_str()];
    procedure.extend(line.modifiers.iter().map(String::as_str));
    let charge = amount(line.charge);
    let units = amount(line.units);
    let pointers: Vec<String> = line.diagnosis_pointers.iter().map(u8::to_string).collect();
    let place = line
        .place_of_service
        .as_deref()
        .filter(|p| *p != claim_place)
        .unwrap_or("");
    out.segment(
        &at,
        "SV1",
        &[
            Field::Composite(procedure),
            Field::Simple(&charge),
            Field::Simple("UN"),
            Field::Simple(&units),
            Field::Simple(place),
            Field::Simple(""),
            Field::Composite(pointers.iter().map(String::as_str).collect()),
        ],
    )?;
    let date = crate::write::ccyymmdd(line.service_date);
    match line.service_date_end {
        Some(end) => {
            let range = format!("{date}-{}", crate::write::ccyymmdd(end));
            out.simple(&at, "DTP", &["472", "RD8", &range])?;
        }
        None => out.simple(&at, "DTP", &["472", "D8", &date])?,
    }
    if let Some(count) = line.patient_count {
        out.simple(
            &format!("{at}/patientCount"),
            "QTY",
            &["PT", &amount(count)],
        )?;
    }
    if let Some(control) = &line.line_control_number {
        out.simple(&format!("{at}/lineControlNumber"), "REF", &["6R", control])?;
    }
    // 2410 drug identification.
    if let Some(drug) = &line.drug {
        let ndc: String = drug.ndc.chars().filter(|c| *c != '-').collect();
        out.simple(&format!("{at}/drug/ndc"), "LIN", &["", "N4", &ndc])?;
        let quantity = amount(drug.quantity);
        out.segment(
            &format!("{at}/drug"),
            "CTP",
            &[
                Field::Simple(""),
                Field::Simple(""),
                Field::Simple(""),
                Field::Simple(&quantity),
                Field::Composite(vec![&drug.unit]),
            ],
        )?;
    }
    // 2430 line adjudication by other payers.
    for (k, adj) in line.prior_adjudications.iter().enumerate() {
        let at = format!("{at}/priorAdjudications/{k}");
        let paid = amount(adj.paid);
        let units = amount(adj.units);
        let code = adj
            .procedure_code
            .as_deref()
            .unwrap_or(&line.procedure_code);
        let mut procedure = vec!["HC", code];
        if adj.procedure_code.is_none() {
            procedure.extend(line.modifiers.iter().map(String::as_str));
        }
        out.segment(
            &at,
            "SVD",
            &[
                Field::Simple(adj.payer_id.as_str()),
                Field::Simple(&paid),
                Field::Composite(procedure),
                Field::Simple(""),
                Field::Simple(&units),
            ],
        )?;
        out.adjustments(&format!("{at}/adjustments"), &adj.adjustments)?;
        let date = crate::write::ccyymmdd(adj.adjudication_date);
        out.simple(
            &format!("{at}/adjudicationDate"),
            "DTP",
            &["573", "D8", &date],
        )?;
    }
    Ok(())
}
