//! A [`Remittance`] as an 835 (005010X221A1): what a payer sends, written from the domain. It
//! lets a remittance read from an 835 be sent on (to a provider's system that wants X12) and is
//! the writer half of the 835's lossless round trip.
#![allow(
    clippy::indexing_slicing,
    reason = "runs of adjustments are counted within the vector they index"
)]

use hms_x12::writer::{Field, InterchangeWriter, WriteError};

use crate::partner::{Envelope, TradingPartner};
use crate::remittance::{Adjustment, ClaimPayment, ProviderAdjustment, Remittance, ServicePayment};
use crate::write::{Opened, TranslateError, amount, open_set};

/// The implementation guide the 835 is written to (GS08, ST03).
pub const VERSION: &str = "005010X221A1";

/// Writes `remittance` as an 835 interchange to `partner`, unchecked: the writer half of the
/// lossless round trip, which must give back what was read, errors and all.
pub fn remittance_835(
    remittance: &Remittance,
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<Vec<u8>, TranslateError> {
    write(remittance, partner, envelope)?
        .finish_unvalidated()
        .map_err(|source| TranslateError::Write {
            field: String::new(),
            source,
        })
}

/// Writes `remittance` as an 835 a payer sends (the simulated payer's), refused unless our
/// validator finds it clean: an 835 we make leaves only valid.
pub fn payer_835(
    remittance: &Remittance,
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<Vec<u8>, TranslateError> {
    write(remittance, partner, envelope)?
        .finish()
        .map_err(|source| TranslateError::Write {
            field: String::new(),
            source,
        })
}

/// The 835 interchange of `remittance`, all but closed.
fn write(
    remittance: &Remittance,
    partner: &TradingPartner,
    envelope: &Envelope,
) -> Result<InterchangeWriter, TranslateError> {
    let fail = |field: &str| {
        let field = field.to_string();
        move |source| TranslateError::Write { field, source }
    };
    let Opened { mut w, .. } =
        open_set(partner, envelope, "HP", "835", VERSION, "").map_err(fail(""))?;
    let p = &remittance.payment;
    let paid = amount(p.amount);
    let date = p.date.map(crate::write::ccyymmdd);
    // BPR05-15 (the banks and accounts of an ACH payment) are not in the model.
    let mut bpr = [""; 16];
    bpr[..4].copy_from_slice(&[&p.handling_code, &paid, &p.credit_debit, &p.method]);
    bpr[15] = date.as_deref().unwrap_or("");
    w.simple("BPR", &bpr).map_err(fail("/payment"))?;
    w.simple(
        "TRN",
        &["1", &p.trace_number, p.originator.as_deref().unwrap_or("")],
    )
    .map_err(fail("/payment/traceNumber"))?;
    for (entity, party, at) in [
        ("PR", &remittance.payer, "/payer"),
        ("PE", &remittance.payee, "/payee"),
    ] {
        let (qualifier, id) = party
            .id
            .as_ref()
            .map_or(("", ""), |i| (i.qualifier.as_str(), i.value.as_str()));
        w.simple("N1", &[entity, &party.name, qualifier, id])
            .map_err(fail(at))?;
        if let Some(address) = &party.address {
            if !address.lines.is_empty() {
                let lines: Vec<&str> = address.lines.iter().map(String::as_str).collect();
                w.simple("N3", &lines).map_err(fail(at))?;
            }
            w.simple(
                "N4",
                &[
                    &address.city,
                    address.state.as_deref().unwrap_or(""),
                    address.postal_code.as_deref().unwrap_or(""),
                ],
            )
            .map_err(fail(at))?;
        }
        for reference in &party.references {
            w.simple("REF", &[&reference.qualifier, &reference.value])
                .map_err(fail(at))?;
        }
        for contact in &party.contacts {
            let mut values = vec![
                contact.function.as_str(),
                contact.name.as_deref().unwrap_or(""),
            ];
            for number in contact.numbers.iter().take(3) {
                values.push(&number.qualifier);
                values.push(&number.value);
            }
            w.simple("PER", &values).map_err(fail(at))?;
        }
    }
    let mut header: Option<&str> = None;
    for (k, claim) in remittance.claims.iter().enumerate() {
        let number = claim.header_number.as_deref().unwrap_or("1");
        if header != Some(number) {
            w.simple("LX", &[number])
                .map_err(fail(&format!("/claims/{k}/headerNumber")))?;
            header = Some(number);
        }
        claim_payment(&mut w, claim, &format!("/claims/{k}"))?;
    }
    provider_adjustments(&mut w, &remittance.provider_adjustments)
        .map_err(fail("/providerAdjustments"))?;
    w.end_transaction().map_err(fail(""))?;
    w.end_group().map_err(fail(""))?;
    Ok(w)
}

fn claim_payment(
    w: &mut InterchangeWriter,
    claim: &ClaimPayment,
    at: &str,
) -> Result<(), TranslateError> {
    let fail = |source| TranslateError::Write {
        field: at.to_string(),
        source,
    };
    let charge = amount(claim.charge);
    let paid = amount(claim.paid);
    let patient = claim.patient_responsibility.map(amount);
    w.simple(
        "CLP",
        &[
            &claim.patient_control_number,
            &claim.status_code,
            &charge,
            &paid,
            patient.as_deref().unwrap_or(""),
            &claim.claim_filing_indicator,
            claim.payer_claim_control_number.as_deref().unwrap_or(""),
            claim.facility_code.as_deref().unwrap_or(""),
        ],
    )
    .map_err(fail)?;
    adjustments(w, &claim.adjustments).map_err(fail)?;
    if let Some(person) = &claim.patient {
        let qualifier = match (&person.id_qualifier, &person.id) {
            (Some(q), _) => q.as_str(),
            (None, Some(_)) => "MI",
            (None, None) => "",
        };
        w.simple(
            "NM1",
            &[
                "QC",
                "1",
                &person.last,
                person.first.as_deref().unwrap_or(""),
                "",
                "",
                "",
                qualifier,
                person.id.as_deref().unwrap_or(""),
            ],
        )
        .map_err(fail)?;
    }
    if claim.inpatient {
        // MIA's elements are not in the model: a lossless read keeps them beside it.
        w.simple("MIA", &[]).map_err(fail)?;
    }
    for (k, line) in claim.services.iter().enumerate() {
        service_payment(w, line).map_err(|source| TranslateError::Write {
            field: format!("{at}/services/{k}"),
            source,
        })?;
    }
    Ok(())
}

fn service_payment(w: &mut InterchangeWriter, line: &ServicePayment) -> Result<(), WriteError> {
    let mut procedure = vec![line.code_qualifier.as_str(), line.procedure_code.as_str()];
    procedure.extend(line.modifiers.iter().map(|m| m.as_str()));
    let charge = amount(line.charge);
    let paid = amount(line.paid);
    let units = line.units.map(amount);
    w.segment(
        "SVC",
        &[
            Field::Composite(procedure),
            Field::Simple(&charge),
            Field::Simple(&paid),
            Field::Simple(""),
            Field::Simple(units.as_deref().unwrap_or("")),
        ],
    )?;
    let day = |d: chrono::NaiveDate| crate::write::ccyymmdd(d);
    match (line.service_date, line.service_date_end) {
        (Some(start), Some(end)) => {
            w.simple("DTM", &["150", &day(start)])?;
            w.simple("DTM", &["151", &day(end)])?;
        }
        (None, Some(end)) => w.simple("DTM", &["151", &day(end)])?,
        (Some(date), None) => w.simple("DTM", &["472", &day(date)])?,
        (None, None) => {}
    }
    adjustments(w, &line.adjustments)?;
    if let Some(number) = &line.line_control_number {
        w.simple("REF", &["6R", number])?;
    }
    for remark in &line.remarks {
        w.simple("LQ", &["HE", &remark.code])?;
    }
    Ok(())
}

/// One CAS per run of adjustments in the same group, up to six reasons each.
fn adjustments(w: &mut InterchangeWriter, adjustments: &[Adjustment]) -> Result<(), WriteError> {
    let mut start = 0;
    while start < adjustments.len() {
        let group = &adjustments[start].group_code;
        let run = adjustments[start..]
            .iter()
            .take(6)
            .take_while(|a| a.group_code == group)
            .count();
        let texts: Vec<[String; 3]> = adjustments[start..start + run]
            .iter()
            .map(|a| {
                [
                    a.reason_code.to_string(),
                    amount(a.amount),
                    a.quantity.map(amount).unwrap_or_default(),
                ]
            })
            .collect();
        let mut values = vec![group.as_str()];
        for t in &texts {
            values.extend(t.iter().map(String::as_str));
        }
        w.simple("CAS", &values)?;
        start += run;
    }
    Ok(())
}

/// One PLB per run of adjustments of the same provider and fiscal period, up to six each.
fn provider_adjustments(
    w: &mut InterchangeWriter,
    adjustments: &[ProviderAdjustment],
) -> Result<(), WriteError> {
    let mut start = 0;
    while start < adjustments.len() {
        let first = &adjustments[start];
        let run = adjustments[start..]
            .iter()
            .take(6)
            .take_while(|a| {
                a.provider_id == first.provider_id && a.fiscal_period == first.fiscal_period
            })
            .count();
        let period = first
            .fiscal_period
            .map(crate::write::ccyymmdd)
            .unwrap_or_default();
        let amounts: Vec<String> = adjustments[start..start + run]
            .iter()
            .map(|a| amount(a.amount))
            .collect();
        let mut fields = vec![Field::Simple(&first.provider_id), Field::Simple(&period)];
        for (a, value) in adjustments[start..start + run].iter().zip(&amounts) {
            let mut reason = vec![a.reason_code.as_str()];
            if let Some(reference) = &a.reference {
                reason.push(reference);
            }
            fields.push(Field::Composite(reason));
            fields.push(Field::Simple(value));
        }
        w.segment("PLB", &fields)?;
        start += run;
    }
    Ok(())
}
