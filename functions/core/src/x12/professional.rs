//! A [`ProfessionalClaim`] as an 837P (005010X222A1): one interchange, one group, one
//! transaction set, in the loop order of the TR3.

use hms_x12::Delimiters;
use hms_x12::writer::{Field, InterchangeHeader, InterchangeWriter};
use rust_decimal::Decimal;

use super::TranslateError;
use crate::claim::{Address, ClaimAdjustment, Name, ProfessionalClaim, Provider};
use crate::partner::{Envelope, TradingPartner, Usage};

/// The implementation guide the 837P is written to (GS08, ST03).
pub const VERSION: &str = "005010X222A1";

/// Writes `claim` as an 837P interchange to `partner`.
pub fn professional_837(
    claim: &ProfessionalClaim,
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<Vec<u8>, TranslateError> {
    let created = envelope.created;
    let header = InterchangeHeader {
        sender_qualifier: partner.sender_qualifier.clone(),
        sender_id: partner.sender_id.clone(),
        receiver_qualifier: partner.receiver_qualifier.clone(),
        receiver_id: partner.receiver_id.clone(),
        date: created.format("%y%m%d").to_string(),
        time: created.format("%H%M").to_string(),
        control_number: envelope.control.interchange,
        ack_requested: partner.ack_requested,
        usage: match partner.usage {
            Usage::Test => 'T',
            Usage::Production => 'P',
        },
    };
    let mut out = Out {
        w: InterchangeWriter::new(&header, Delimiters::default(), true)
            .map_err(|e| write_error("/partner", e))?,
    };
    let date = created.format("%Y%m%d").to_string();
    let time = created.format("%H%M").to_string();
    out.w
        .begin_group(
            "HC",
            &partner.application_sender,
            &partner.application_receiver,
            &date,
            &time,
            envelope.control.group,
            VERSION,
        )
        .map_err(|e| write_error("/partner", e))?;
    let control = format!("{:04}", envelope.control.transaction);
    out.w
        .begin_transaction("837", &control, VERSION)
        .map_err(|e| write_error("/partner", e))?;
    // BHT03: the originator's reference for this batch; the claim's control number serves.
    let reference = claim.claim.patient_control_number.as_str();
    out.simple("", "BHT", &["0019", "00", reference, &date, &time, "CH"])?;

    // 1000A submitter, 1000B receiver.
    let s = &claim.submitter;
    out.simple(
        "/submitter",
        "NM1",
        &["41", "2", &s.name, "", "", "", "", "46", &s.id],
    )?;
    let mut per = vec!["IC", s.contact.name.as_str()];
    if let Some(phone) = &s.contact.phone {
        per.extend(["TE", phone]);
    }
    if let Some(email) = &s.contact.email {
        per.extend(["EM", email]);
    }
    if per.len() == 2 {
        return Err(TranslateError::Missing {
            field: "/submitter/contact".into(),
            message: "a phone number or an email address is required (PER03/PER04)".into(),
        });
    }
    out.simple("/submitter/contact", "PER", &per)?;
    let r = &claim.receiver;
    out.simple(
        "/receiver",
        "NM1",
        &["40", "2", &r.name, "", "", "", "", "46", &r.id],
    )?;

    // 2000A billing provider.
    let has_patient = claim.patient.is_some();
    out.simple("", "HL", &["1", "", "20", "1"])?;
    let billing = &claim.billing_provider;
    if let Some(taxonomy) = &billing.taxonomy {
        out.simple("/billingProvider/taxonomy", "PRV", &["BI", "PXC", taxonomy])?;
    }
    out.provider_name("/billingProvider", "85", billing)?;
    let Some(address) = &billing.address else {
        return Err(TranslateError::Missing {
            field: "/billingProvider/address".into(),
            message: "the billing provider's street address is required (loop 2010AA N3/N4)".into(),
        });
    };
    out.address("/billingProvider/address", address)?;
    let Some(tax_id) = &billing.tax_id else {
        return Err(TranslateError::Missing {
            field: "/billingProvider/taxId".into(),
            message: "the billing provider's tax id is required (loop 2010AA REF*EI or REF*SY)"
                .into(),
        });
    };
    let tax_qualifier = match billing.name {
        Name::Person { .. } => "SY",
        Name::Organization { .. } => "EI",
    };
    out.simple(
        "/billingProvider/taxId",
        "REF",
        &[tax_qualifier, tax_id.as_str()],
    )?;
    if let Some(pay_to) = &claim.pay_to_address {
        out.simple("/payToAddress", "NM1", &["87", "2"])?;
        out.address("/payToAddress", pay_to)?;
    }

    // 2000B subscriber.
    let sub = &claim.subscriber;
    out.simple(
        "",
        "HL",
        &["2", "1", "22", if has_patient { "1" } else { "0" }],
    )?;
    let group = sub.group_number.as_deref().unwrap_or("");
    let relationship = if has_patient { "" } else { "18" };
    out.simple(
        "/subscriber",
        "SBR",
        &[
            sub.responsibility.code(),
            relationship,
            group,
            "",
            "",
            "",
            "",
            "",
            &sub.claim_filing_indicator,
        ],
    )?;
    out.name(
        "/subscriber",
        "IL",
        &sub.name,
        Some(("MI", sub.member_id.as_str())),
    )?;
    if !has_patient {
        // The subscriber is the patient: address and demographics are required.
        let (Some(address), Some(birth), Some(gender)) = (&sub.address, sub.birth_date, sub.gender)
        else {
            return Err(TranslateError::Missing {
                field: "/subscriber".into(),
                message: "address, birthDate and gender are required when the subscriber is the patient (loop 2010BA N3/N4/DMG)".into(),
            });
        };
        out.address("/subscriber/address", address)?;
        let birth = birth.format("%Y%m%d").to_string();
        out.simple("/subscriber", "DMG", &["D8", &birth, gender.code()])?;
    } else if let Some(address) = &sub.address {
        out.address("/subscriber/address", address)?;
    }
    let payer = &claim.payer;
    out.simple(
        "/payer",
        "NM1",
        &[
            "PR",
            "2",
            &payer.name,
            "",
            "",
            "",
            "",
            "PI",
            payer.id.as_str(),
        ],
    )?;

    // 2000C patient.
    if let Some(patient) = &claim.patient {
        out.simple("", "HL", &["3", "2", "23", "0"])?;
        out.simple("/patient/relationship", "PAT", &[&patient.relationship])?;
        out.name("/patient", "QC", &patient.name, None)?;
        out.address("/patient/address", &patient.address)?;
        let birth = patient.birth_date.format("%Y%m%d").to_string();
        out.simple("/patient", "DMG", &["D8", &birth, patient.gender.code()])?;
    }

    // 2300 claim.
    let c = &claim.claim;
    let total = amount(c.total_charge);
    let yes_no = |b: bool| if b { "Y" } else { "N" };
    out.segment(
        "/claim",
        "CLM",
        &[
            Field::Simple(c.patient_control_number.as_str()),
            Field::Simple(&total),
            Field::Simple(""),
            Field::Simple(""),
            Field::Composite(vec![&c.place_of_service, "B", &c.frequency]),
            Field::Simple(yes_no(c.provider_signature_on_file)),
            Field::Simple(&c.assignment),
            Field::Simple(yes_no(c.benefits_assigned)),
            Field::Simple(&c.release_of_information),
        ],
    )?;
    if let Some(onset) = c.onset_date {
        let onset = onset.format("%Y%m%d").to_string();
        out.simple("/claim/onsetDate", "DTP", &["431", "D8", &onset])?;
    }
    if let Some(accident) = c.accident_date {
        let accident = accident.format("%Y%m%d").to_string();
        out.simple("/claim/accidentDate", "DTP", &["439", "D8", &accident])?;
    }
    if let Some(auth) = &c.prior_authorization {
        out.simple("/claim/priorAuthorization", "REF", &["G1", auth])?;
    }
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
    let codes: Vec<String> = c.diagnoses.iter().map(|d| diagnosis_code(d)).collect();
    let hi: Vec<Field<'_>> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| Field::Composite(vec![if i == 0 { "ABK" } else { "ABF" }, code]))
        .collect();
    if hi.is_empty() {
        return Err(TranslateError::Missing {
            field: "/claim/diagnoses".into(),
            message: "at least one diagnosis is required (HI, principal diagnosis ABK)".into(),
        });
    }
    out.segment("/claim/diagnoses", "HI", &hi)?;

    // 2310A referring, 2310B rendering.
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

    // 2310E ambulance pick-up, 2310F drop-off.
    if let Some(amb) = &claim.ambulance {
        out.simple("/ambulance/pickup", "NM1", &["PW", "2"])?;
        out.address("/ambulance/pickup", &amb.pickup)?;
        match &amb.dropoff_name {
            Some(name) => out.simple("/ambulance/dropoffName", "NM1", &["45", "2", name])?,
            None => out.simple("/ambulance/dropoff", "NM1", &["45", "2"])?,
        }
        out.address("/ambulance/dropoff", &amb.dropoff)?;
    }

    // 2320 other subscriber, 2330A its subscriber, 2330B its payer.
    for (k, other) in claim.other_coverage.iter().enumerate() {
        let at = format!("/otherCoverage/{k}");
        out.simple(
            &at,
            "SBR",
            &[
                other.responsibility.code(),
                &other.relationship,
                other.group_number.as_deref().unwrap_or(""),
                "",
                "",
                "",
                "",
                "",
                &other.claim_filing_indicator,
            ],
        )?;
        out.adjustments(&format!("{at}/adjustments"), &other.adjustments)?;
        if let Some(paid) = other.paid {
            out.simple(&format!("{at}/paid"), "AMT", &["D", &amount(paid)])?;
        }
        let signature = yes_no(c.benefits_assigned);
        out.simple(
            &at,
            "OI",
            &["", "", signature, "", "", &c.release_of_information],
        )?;
        out.name(
            &format!("{at}/subscriberName"),
            "IL",
            &other.subscriber_name,
            Some(("MI", other.member_id.as_str())),
        )?;
        out.simple(
            &format!("{at}/payer"),
            "NM1",
            &[
                "PR",
                "2",
                &other.payer.name,
                "",
                "",
                "",
                "",
                "PI",
                other.payer.id.as_str(),
            ],
        )?;
        if let Some(date) = other.adjudication_date {
            let date = date.format("%Y%m%d").to_string();
            out.simple(
                &format!("{at}/adjudicationDate"),
                "DTP",
                &["573", "D8", &date],
            )?;
        }
    }

    // 2400 service lines.
    for (i, line) in claim.service_lines.iter().enumerate() {
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
            .filter(|p| *p != c.place_of_service)
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
        let date = line.service_date.format("%Y%m%d").to_string();
        out.simple(&at, "DTP", &["472", "D8", &date])?;
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
            let date = adj.adjudication_date.format("%Y%m%d").to_string();
            out.simple(
                &format!("{at}/adjudicationDate"),
                "DTP",
                &["573", "D8", &date],
            )?;
        }
    }
    out.w
        .end_transaction()
        .and_then(|()| out.w.end_group())
        .map_err(|e| write_error("", e))?;
    out.w.finish().map_err(|e| write_error("", e))
}

/// The writer, with the claim field each segment comes from for its errors.
struct Out {
    w: InterchangeWriter,
}

impl Out {
    fn simple(&mut self, field: &str, id: &str, values: &[&str]) -> Result<(), TranslateError> {
        self.w.simple(id, values).map_err(|e| write_error(field, e))
    }

    fn segment(
        &mut self,
        field: &str,
        id: &str,
        fields: &[Field<'_>],
    ) -> Result<(), TranslateError> {
        self.w
            .segment(id, fields)
            .map_err(|e| write_error(field, e))
    }

    /// NM1 for a name, with an optional id qualifier and id (NM108/NM109).
    fn name(
        &mut self,
        field: &str,
        entity: &str,
        name: &Name,
        id: Option<(&str, &str)>,
    ) -> Result<(), TranslateError> {
        let (qualifier, code) = id.unwrap_or(("", ""));
        match name {
            Name::Organization { name } => self.simple(
                field,
                "NM1",
                &[entity, "2", name, "", "", "", "", qualifier, code],
            ),
            Name::Person {
                last,
                first,
                middle,
                suffix,
            } => self.simple(
                field,
                "NM1",
                &[
                    entity,
                    "1",
                    last,
                    first,
                    middle.as_deref().unwrap_or(""),
                    "",
                    suffix.as_deref().unwrap_or(""),
                    qualifier,
                    code,
                ],
            ),
        }
    }

    fn provider_name(
        &mut self,
        field: &str,
        entity: &str,
        provider: &Provider,
    ) -> Result<(), TranslateError> {
        self.name(
            field,
            entity,
            &provider.name,
            Some(("XX", provider.npi.as_str())),
        )
    }

    /// CAS segments: one per group, up to six reasons each, in the order given.
    fn adjustments(
        &mut self,
        field: &str,
        adjustments: &[ClaimAdjustment],
    ) -> Result<(), TranslateError> {
        let mut groups: Vec<&str> = vec![];
        for a in adjustments {
            if !groups.contains(&a.group.as_str()) {
                groups.push(&a.group);
            }
        }
        for group in groups {
            let of_group: Vec<&ClaimAdjustment> =
                adjustments.iter().filter(|a| a.group == group).collect();
            for chunk in of_group.chunks(6) {
                let mut values = vec![group.to_string()];
                for a in chunk {
                    values.push(a.reason.clone());
                    values.push(amount(a.amount));
                    values.push(a.quantity.map(amount).unwrap_or_default());
                }
                let refs: Vec<&str> = values.iter().map(String::as_str).collect();
                self.simple(field, "CAS", &refs)?;
            }
        }
        Ok(())
    }

    fn address(&mut self, field: &str, address: &Address) -> Result<(), TranslateError> {
        let lines: Vec<&str> = address.lines.iter().map(String::as_str).take(2).collect();
        if lines.is_empty() {
            return Err(TranslateError::Missing {
                field: format!("{field}/lines"),
                message: "an address needs a street line (N301)".into(),
            });
        }
        self.simple(field, "N3", &lines)?;
        let postal: String = address.postal_code.chars().filter(|c| *c != '-').collect();
        self.simple(field, "N4", &[&address.city, &address.state, &postal])
    }
}

fn write_error(field: &str, source: hms_x12::writer::WriteError) -> TranslateError {
    TranslateError::Write {
        field: field.to_string(),
        source,
    }
}

/// An amount as X12 writes a decimal (R): no exponent, no trailing zeros after the point.
fn amount(value: Decimal) -> String {
    value.normalize().to_string()
}

/// An ICD-10-CM code as the 837 carries it: upper case, without the dot.
fn diagnosis_code(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '.')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
