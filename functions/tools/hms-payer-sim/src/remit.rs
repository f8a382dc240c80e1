//! The simulated payer pays: each claim it accepted is adjudicated by configurable rules
//! (a contracted share of each line's charge, the member's copay, deductible and coinsurance,
//! procedures it denies, procedures it pays and later corrects) and paid in an 835, one per
//! payer and payee a run, which our validator must find clean before it leaves. Dropped into
//! the drop zone, the 835s run the local stack's whole cycle from claim to payment.

use chrono::{NaiveDate, Utc};
use hms_domain::claims::Claim;
use hms_domain::partner::{Envelope, TradingPartner, Usage};
use hms_domain::remittance::{
    Adjustment, Balance, ClaimPayment, Party, PartyAddress, PartyContact, PartyId, Payment,
    PersonRef, ProviderAdjustment, Remittance, ServicePayment, adjustment_group, claim_status,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Member;

/// How the simulated payer adjudicates the claims it accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentRules {
    /// The share of each line's charge the contract allows (the rest is adjusted away, CO
    /// 45).
    #[serde(default = "four_fifths")]
    pub allowed_share: Decimal,
    /// Procedure codes it pays nothing for (CO 50, not medically necessary): a claim whose
    /// every line is one is denied.
    #[serde(default)]
    pub deny_procedure_codes: Vec<String>,
    /// Procedure codes it pays, then in its next run takes back (CLP02 22) and pays again at
    /// 90% of what it first paid: a reversal and correction.
    #[serde(default)]
    pub correct_procedure_codes: Vec<String>,
    /// Interest it adds to each payment (PLB L6), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interest: Option<Decimal>,
}

fn four_fifths() -> Decimal {
    Decimal::new(8, 1)
}

impl Default for PaymentRules {
    fn default() -> Self {
        Self {
            allowed_share: four_fifths(),
            deny_procedure_codes: vec![],
            correct_procedure_codes: vec![],
            interest: None,
        }
    }
}

/// A line of a claim to pay.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    qualifier: &'static str,
    code: String,
    modifiers: Vec<String>,
    charge: Decimal,
    units: Decimal,
    date: Option<NaiveDate>,
    control: Option<String>,
}

/// A claim the payer accepted, as it pays it.
#[derive(Debug, Clone, PartialEq)]
pub struct Payable {
    pcn: String,
    payer_id: String,
    payer_name: String,
    payee_name: String,
    payee_npi: String,
    payee_tax_id: Option<String>,
    member_id: String,
    last: String,
    first: Option<String>,
    filing_indicator: String,
    facility: String,
    charge: Decimal,
    lines: Vec<Line>,
    /// The payer's claim number, once paid.
    paid_as: Option<String>,
    /// What the first payment was, when it is to be corrected in the next run.
    to_correct: Option<ClaimPayment>,
}

impl Payable {
    /// `claim`, accepted, waiting to be paid.
    pub fn of(claim: &Claim) -> Self {
        let billing = claim.billing_provider();
        let subscriber = claim.subscriber();
        let (last, first) = match &subscriber.name {
            hms_domain::party::Name::Person { last, first, .. } => {
                (last.clone(), Some(first.clone()))
            }
            hms_domain::party::Name::Organization { name } => (name.clone(), None),
        };
        let (facility, lines) = match claim {
            Claim::Professional(c) => (
                c.claim.place_of_service.clone(),
                c.service_lines
                    .iter()
                    .map(|l| Line {
                        qualifier: "HC",
                        code: l.procedure_code.clone(),
                        modifiers: l.modifiers.clone(),
                        charge: l.charge,
                        units: l.units,
                        date: Some(l.service_date),
                        control: l.line_control_number.clone(),
                    })
                    .collect(),
            ),
            Claim::Institutional(c) => (
                c.claim.facility_type.clone(),
                c.service_lines
                    .iter()
                    .map(|l| Line {
                        qualifier: if l.procedure_code.is_some() {
                            "HC"
                        } else {
                            "NU"
                        },
                        code: l
                            .procedure_code
                            .clone()
                            .unwrap_or_else(|| l.revenue_code.clone()),
                        modifiers: l.modifiers.clone(),
                        charge: l.charge,
                        units: l.quantity,
                        date: l.service_date.or(Some(c.claim.statement_from)),
                        control: l.line_control_number.clone(),
                    })
                    .collect(),
            ),
        };
        Self {
            pcn: claim.patient_control_number().as_str().to_string(),
            payer_id: claim.payer_id().to_string(),
            payer_name: claim.parties().payer.name.clone(),
            payee_name: match &billing.name {
                hms_domain::party::Name::Organization { name } => name.clone(),
                hms_domain::party::Name::Person { last, .. } => last.clone(),
            },
            payee_npi: billing
                .npi
                .as_ref()
                .map(|n| n.as_str().to_string())
                .unwrap_or_default(),
            payee_tax_id: billing
                .tax_id
                .as_ref()
                .map(|t| t.as_str().chars().filter(char::is_ascii_digit).collect()),
            member_id: subscriber.member_id.as_str().to_string(),
            last,
            first,
            filing_indicator: remittance_filing_indicator(&subscriber.claim_filing_indicator)
                .to_string(),
            facility,
            charge: claim.total_charge(),
            lines,
            paid_as: None,
            to_correct: None,
        }
    }
}

/// The 835's claim filing indicator (CLP06) for the 837's (SBR09): the 835 lists fewer codes,
/// and commercial insurance (CI, BL) is paid as indemnity (15).
fn remittance_filing_indicator(sbr09: &str) -> &str {
    const CLP06: [&str; 19] = [
        "12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB", "MC", "OF",
        "TV", "VA", "WC", "ZZ",
    ];
    match sbr09 {
        code if CLP06.contains(&code) => code,
        "CI" | "BL" => "15",
        _ => "ZZ",
    }
}

fn adjustment(group: &str, reason: &str, amount: Decimal) -> Adjustment {
    Adjustment {
        group_code: group.into(),
        group: adjustment_group(group).into(),
        reason_code: reason.into(),
        reason: hms_domain::codes::describe(hms_domain::codes::claim_adjustment_reason, reason)
            .map(Into::into),
        amount,
        quantity: None,
    }
}

/// What is left of each member's deductible, by member id.
pub type Deductibles = std::collections::HashMap<String, Decimal>;

/// The claim payment of `claim` by `rules`, the member's plan applied (and its deductible
/// drawn down in `deductibles`).
fn adjudicate(
    claim: &Payable,
    rules: &PaymentRules,
    member: Option<&Member>,
    deductibles: &mut Deductibles,
    payer_claim_number: &str,
) -> ClaimPayment {
    let mut copay = member.and_then(|m| m.copay).unwrap_or_default();
    let coinsurance = member.and_then(|m| m.coinsurance).unwrap_or_default();
    let deductible = deductibles
        .entry(claim.member_id.clone())
        .or_insert_with(|| {
            member
                .and_then(|m| m.deductible_remaining)
                .unwrap_or_default()
        });
    let mut services = vec![];
    for line in &claim.lines {
        let mut adjustments = vec![];
        let paid = if rules.deny_procedure_codes.contains(&line.code) {
            adjustments.push(adjustment("CO", "50", line.charge));
            Decimal::ZERO
        } else {
            let allowed = (line.charge * rules.allowed_share).round_dp(2);
            if line.charge > allowed {
                adjustments.push(adjustment("CO", "45", line.charge - allowed));
            }
            let mut left = allowed;
            let from_deductible = (*deductible).min(left);
            if from_deductible > Decimal::ZERO {
                adjustments.push(adjustment("PR", "1", from_deductible));
                *deductible -= from_deductible;
                left -= from_deductible;
            }
            let from_copay = copay.min(left);
            if from_copay > Decimal::ZERO {
                adjustments.push(adjustment("PR", "3", from_copay));
                copay -= from_copay;
                left -= from_copay;
            }
            let from_coinsurance = (left * coinsurance).round_dp(2);
            if from_coinsurance > Decimal::ZERO {
                adjustments.push(adjustment("PR", "2", from_coinsurance));
                left -= from_coinsurance;
            }
            left
        };
        services.push(ServicePayment {
            code_qualifier: line.qualifier.into(),
            procedure_code: line.code.as_str().into(),
            modifiers: line.modifiers.iter().map(|m| m.as_str().into()).collect(),
            charge: line.charge,
            paid,
            units: Some(line.units),
            service_date: line.date,
            service_date_end: None,
            line_control_number: line.control.as_deref().map(Into::into),
            adjustments,
            remarks: vec![],
        });
    }
    let paid: Decimal = services.iter().map(|s| s.paid).sum();
    let patient: Decimal = services
        .iter()
        .flat_map(|s| &s.adjustments)
        .filter(|a| a.group_code == "PR")
        .map(|a| a.amount)
        .sum();
    let status = if paid.is_zero() && patient.is_zero() {
        "4"
    } else {
        "1"
    };
    ClaimPayment {
        header_number: Some("1".into()),
        patient_control_number: claim.pcn.as_str().into(),
        status_code: status.into(),
        status: claim_status(status).into(),
        charge: claim.charge,
        paid,
        patient_responsibility: Some(patient),
        claim_filing_indicator: claim.filing_indicator.as_str().into(),
        payer_claim_control_number: Some(payer_claim_number.into()),
        facility_code: Some(claim.facility.as_str().into()),
        inpatient: false,
        patient: Some(PersonRef {
            last: claim.last.as_str().into(),
            first: claim.first.as_deref().map(Into::into),
            id: Some(claim.member_id.as_str().into()),
            id_qualifier: Some("MI".into()),
        }),
        adjustments: vec![],
        services,
    }
}

/// `payment` taken back: every amount negated, CLP02 22.
fn reversal(payment: &ClaimPayment) -> ClaimPayment {
    let mut back = payment.clone();
    back.status_code = "22".into();
    back.status = claim_status("22").into();
    back.charge = -back.charge;
    back.paid = -back.paid;
    back.patient_responsibility = back.patient_responsibility.map(|p| -p);
    for a in &mut back.adjustments {
        a.amount = -a.amount;
    }
    for s in &mut back.services {
        s.charge = -s.charge;
        s.paid = -s.paid;
        for a in &mut s.adjustments {
            a.amount = -a.amount;
        }
    }
    back
}

/// `payment` paid again at 90% of each line's payment, the tenth more adjusted away (CO 45).
fn correction(payment: &ClaimPayment) -> ClaimPayment {
    let mut again = payment.clone();
    for s in &mut again.services {
        let cut = (s.paid * Decimal::new(1, 1)).round_dp(2);
        if cut > Decimal::ZERO {
            s.paid -= cut;
            s.adjustments.push(adjustment("CO", "45", cut));
        }
    }
    again.paid = again.services.iter().map(|s| s.paid).sum();
    again
}

/// One 835 the payer wrote: where it goes in the drop zone, and the X12.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Written835 {
    /// Its key under the drop zone (`inbound/{payer}/{trace}.835`).
    pub key: String,
    /// The payer it is from.
    pub payer_id: String,
    /// Its trace number (TRN02).
    pub trace_number: String,
    /// Claim payments in it.
    pub claim_payments: usize,
    /// The 835.
    pub x12: String,
}

/// Pays `claims` (each unpaid one, and the corrections a rule asked for), one 835 per payer
/// and payee, numbered from `control`. The claims are marked paid.
pub fn pay(
    claims: &mut [Payable],
    rules: &PaymentRules,
    members: &[Member],
    deductibles: &mut Deductibles,
    control: &mut u32,
    today: NaiveDate,
) -> Result<Vec<Written835>, String> {
    let mut groups: Vec<((String, String), Vec<ClaimPayment>)> = vec![];
    fn group_of(
        groups: &mut Vec<((String, String), Vec<ClaimPayment>)>,
        payer: &str,
        payee: &str,
    ) -> usize {
        let key = (payer.to_string(), payee.to_string());
        match groups.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                groups.push((key, vec![]));
                groups.len() - 1
            }
        }
    }
    let mut parties: Vec<(String, Party, Party)> = vec![];
    for claim in claims.iter_mut() {
        let payments: Vec<ClaimPayment> = if let Some(first) = claim.to_correct.take() {
            vec![reversal(&first), correction(&first)]
        } else if claim.paid_as.is_none() {
            *control = *control % 999_999_999 + 1;
            let number = format!("SIM{:010}", *control);
            let member = members.iter().find(|m| m.member_id == claim.member_id);
            let payment = adjudicate(claim, rules, member, deductibles, &number);
            claim.paid_as = Some(number);
            if payment.status_code == "1"
                && claim
                    .lines
                    .iter()
                    .any(|l| rules.correct_procedure_codes.contains(&l.code))
            {
                claim.to_correct = Some(payment.clone());
            }
            vec![payment]
        } else {
            continue;
        };
        let i = group_of(&mut groups, &claim.payer_id, &claim.payee_npi);
        if let Some((_, list)) = groups.get_mut(i) {
            list.extend(payments);
        }
        if !parties
            .iter()
            .any(|(k, _, _)| *k == format!("{}#{}", claim.payer_id, claim.payee_npi))
        {
            parties.push((
                format!("{}#{}", claim.payer_id, claim.payee_npi),
                Party {
                    name: claim.payer_name.clone(),
                    id: None,
                    references: vec![PartyId {
                        qualifier: "2U".into(),
                        value: claim.payer_id.clone(),
                    }],
                    address: Some(PartyAddress {
                        lines: vec!["100 SIMULATED WAY".into()],
                        city: "HARTFORD".into(),
                        state: Some("CT".into()),
                        postal_code: Some("061030001".into()),
                    }),
                    contacts: vec![PartyContact {
                        function: "BL".into(),
                        name: Some("SIMULATED PAYER EDI".into()),
                        numbers: vec![PartyId {
                            qualifier: "TE".into(),
                            value: "8005550100".into(),
                        }],
                    }],
                },
                Party {
                    name: claim.payee_name.clone(),
                    id: Some(PartyId {
                        qualifier: "XX".into(),
                        value: claim.payee_npi.clone(),
                    }),
                    references: claim
                        .payee_tax_id
                        .iter()
                        .map(|t| PartyId {
                            qualifier: "TJ".into(),
                            value: t.clone(),
                        })
                        .collect(),
                    address: None,
                    contacts: vec![],
                },
            ));
        }
    }
    let mut written = vec![];
    for ((payer_id, payee_npi), payments) in groups {
        if payments.is_empty() {
            continue;
        }
        let Some((_, payer, payee)) = parties
            .iter()
            .find(|(k, _, _)| *k == format!("{payer_id}#{payee_npi}"))
        else {
            continue;
        };
        *control = *control % 999_999_999 + 1;
        let trace = format!("SIMCHK{:010}", *control);
        let provider_adjustments: Vec<ProviderAdjustment> = rules
            .interest
            .iter()
            .map(|interest| ProviderAdjustment {
                provider_id: payee_npi.clone(),
                fiscal_period: NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 12, 31),
                reason_code: "L6".into(),
                reference: None,
                amount: -*interest,
            })
            .collect();
        let claims_paid: Decimal = payments.iter().map(|p| p.paid).sum();
        let adjusted: Decimal = provider_adjustments.iter().map(|p| p.amount).sum();
        let amount = claims_paid - adjusted;
        let remittance = Remittance {
            payment: Payment {
                handling_code: if amount.is_zero() { "H" } else { "I" }.into(),
                amount,
                credit_debit: "C".into(),
                method: if amount.is_zero() { "NON" } else { "CHK" }.into(),
                date: Some(today),
                trace_number: trace.clone(),
                originator: Some("1842610001".into()),
            },
            payer: payer.clone(),
            payee: payee.clone(),
            claims: payments,
            provider_adjustments,
            balance: Balance {
                claims_paid,
                provider_adjustments: adjusted,
                expected_payment: amount,
                balanced: true,
            },
        };
        let partner = TradingPartner {
            sender_qualifier: "ZZ".into(),
            sender_id: "PAYERSIM".into(),
            receiver_qualifier: "ZZ".into(),
            receiver_id: "HMSACH".into(),
            application_sender: "PAYERSIM".into(),
            application_receiver: "HMSACH".into(),
            usage: Usage::Test,
            ack_requested: false,
            submitter: None,
        };
        let envelope = Envelope::new(*control, Utc::now().naive_utc());
        let x12 = hms_domain::remittance::write_835::payer_835(&remittance, &partner, &envelope)
            .map_err(|e| format!("the simulator could not write its 835: {e}"))?;
        written.push(Written835 {
            key: format!("inbound/{payer_id}/{trace}.835"),
            payer_id,
            trace_number: trace,
            claim_payments: remittance.claims.len(),
            x12: String::from_utf8_lossy(&x12).into_owned(),
        });
    }
    Ok(written)
}
