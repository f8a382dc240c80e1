//! The domain claim as the contract's typed records and back, and rule findings as
//! `OperationOutcome` issues. A rule set sees what the WIT records hold; what it changes comes
//! back onto the original claim, so fields the contract does not carry (addresses of the
//! patient, drugs, prior adjudications) are never lost by a transform.

use chrono::{Datelike, NaiveDate};
use hms_domain::claims::{self, Claim, InstitutionalClaim, ProfessionalClaim};
use hms_domain::ids::{MemberId, Npi, PatientControlNumber, PayerId, TaxId};
use hms_domain::outcome::{Details, Issue, IssueSeverity, IssueType};
use hms_domain::party;
use rust_decimal::Decimal;

use crate::host::types;

/// A value that does not cross the boundary: an amount too large for the contract's decimal, or
/// an identifier a rule set changed into something the domain refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConvertError {
    /// JSON pointer into the claim.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn fail(path: &str, message: impl Into<String>) -> ConvertError {
    ConvertError {
        path: path.to_string(),
        message: message.into(),
    }
}

fn decimal(value: Decimal, path: &str) -> Result<types::Decimal, ConvertError> {
    let mantissa = i64::try_from(value.mantissa()).map_err(|_| {
        fail(
            path,
            format!("{value} is too large for a rule set's decimal"),
        )
    })?;
    Ok(types::Decimal {
        mantissa,
        scale: value.scale() as u8,
    })
}

fn from_decimal(value: &types::Decimal, path: &str) -> Result<Decimal, ConvertError> {
    Decimal::try_from_i128_with_scale(i128::from(value.mantissa), u32::from(value.scale))
        .map_err(|e| fail(path, format!("not a decimal: {e}")))
}

/// `d` as the contract's date; a year the contract cannot hold (before year 0, the
/// `-2026-11-02` a JSON date may say) fails at `path` rather than reaching a rule set as
/// another date.
fn date(d: NaiveDate, path: &str) -> Result<types::Date, ConvertError> {
    let year = u16::try_from(d.year()).map_err(|_| {
        fail(
            path,
            format!("{d}: a rule set's dates take the years 0 to 65535"),
        )
    })?;
    Ok(types::Date {
        year,
        month: d.month() as u8,
        day: d.day() as u8,
    })
}

fn from_date(d: &types::Date, path: &str) -> Result<NaiveDate, ConvertError> {
    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day)).ok_or_else(
        || {
            fail(
                path,
                format!("{}-{}-{} is not a date", d.year, d.month, d.day),
            )
        },
    )
}

fn name(n: &party::Name) -> types::Name {
    match n {
        party::Name::Person {
            last,
            first,
            middle,
            suffix,
        } => types::Name::Person(types::PersonName {
            last: last.clone(),
            first: first.clone(),
            middle: middle.clone(),
            suffix: suffix.clone(),
        }),
        party::Name::Organization { name } => types::Name::Organization(name.clone()),
    }
}

fn from_name(n: &types::Name) -> party::Name {
    match n {
        types::Name::Person(p) => party::Name::Person {
            last: p.last.clone(),
            first: p.first.clone(),
            middle: p.middle.clone(),
            suffix: p.suffix.clone(),
        },
        types::Name::Organization(name) => party::Name::Organization { name: name.clone() },
    }
}

fn address(a: &party::Address) -> types::Address {
    types::Address {
        lines: a.lines.clone(),
        city: a.city.clone(),
        state: a.state.clone(),
        postal_code: a.postal_code.clone(),
    }
}

fn from_address(a: &types::Address) -> party::Address {
    party::Address {
        lines: a.lines.clone(),
        city: a.city.clone(),
        state: a.state.clone(),
        postal_code: a.postal_code.clone(),
    }
}

fn gender(g: party::Gender) -> types::Gender {
    match g {
        party::Gender::Female => types::Gender::Female,
        party::Gender::Male => types::Gender::Male,
        party::Gender::Unknown => types::Gender::Unknown,
    }
}

fn from_gender(g: types::Gender) -> party::Gender {
    match g {
        types::Gender::Female => party::Gender::Female,
        types::Gender::Male => party::Gender::Male,
        types::Gender::Unknown => party::Gender::Unknown,
    }
}

fn provider(p: &party::Provider) -> types::Provider {
    types::Provider {
        npi: p.npi.as_ref().map(|n| n.as_str().to_string()),
        name: name(&p.name),
        taxonomy: p.taxonomy.clone(),
        tax_id: p.tax_id.as_ref().map(|t| t.as_str().to_string()),
        address: p.address.as_ref().map(address),
    }
}

/// `changed` onto `original`: the fields the contract carries, from `changed`.
fn from_provider(
    original: &party::Provider,
    changed: &types::Provider,
    path: &str,
) -> Result<party::Provider, ConvertError> {
    Ok(party::Provider {
        npi: changed
            .npi
            .as_deref()
            .map(|n| Npi::parse(n).map_err(|e| fail(&format!("{path}/npi"), e.to_string())))
            .transpose()?,
        name: from_name(&changed.name),
        taxonomy: changed.taxonomy.clone(),
        tax_id: changed
            .tax_id
            .as_deref()
            .map(|t| TaxId::parse(t).map_err(|e| fail(&format!("{path}/taxId"), e.to_string())))
            .transpose()?,
        address: changed.address.as_ref().map(from_address),
        ..original.clone()
    })
}

/// An optional provider (rendering, referring, attending, operating) as a rule set left it: a
/// provider it added starts from a blank one.
fn optional_provider(
    original: &Option<party::Provider>,
    changed: &Option<types::Provider>,
    path: &str,
) -> Result<Option<party::Provider>, ConvertError> {
    match (original, changed) {
        (_, None) => Ok(None),
        (Some(o), Some(c)) => from_provider(o, c, path).map(Some),
        (None, Some(c)) => {
            let blank = party::Provider {
                npi: None,
                name: from_name(&c.name),
                taxonomy: None,
                tax_id: None,
                tax_id_type: None,
                address: None,
            };
            from_provider(&blank, c, path).map(Some)
        }
    }
}

fn subscriber(s: &claims::Subscriber) -> Result<types::Subscriber, ConvertError> {
    Ok(types::Subscriber {
        member_id: s.member_id.as_str().to_string(),
        name: name(&s.name),
        birth_date: s
            .birth_date
            .map(|d| date(d, "/subscriber/birthDate"))
            .transpose()?,
        gender: s.gender.map(gender),
        group_number: s.group_number.clone(),
        claim_filing_indicator: s.claim_filing_indicator.clone(),
    })
}

fn apply_subscriber(
    out: &mut claims::Subscriber,
    s: &types::Subscriber,
) -> Result<(), ConvertError> {
    out.member_id =
        MemberId::parse(&s.member_id).map_err(|e| fail("/subscriber/memberId", e.to_string()))?;
    out.name = from_name(&s.name);
    out.birth_date = s
        .birth_date
        .as_ref()
        .map(|d| from_date(d, "/subscriber/birthDate"))
        .transpose()?;
    out.gender = s.gender.map(from_gender);
    out.group_number = s.group_number.clone();
    out.claim_filing_indicator = s.claim_filing_indicator.clone();
    Ok(())
}

fn patient(p: &claims::Patient) -> Result<types::Patient, ConvertError> {
    Ok(types::Patient {
        relationship: p.relationship.clone(),
        name: name(&p.name),
        birth_date: date(p.birth_date, "/patient/birthDate")?,
        gender: gender(p.gender),
    })
}

/// The patient as a rule set left it. A rule set may change who the patient is but cannot
/// invent one (the contract does not carry the address the 837 needs), nor drop one.
fn apply_patient(
    out: &mut Option<claims::Patient>,
    p: &Option<types::Patient>,
) -> Result<(), ConvertError> {
    match (out.as_mut(), p) {
        (None, None) => Ok(()),
        (Some(o), Some(p)) => {
            o.relationship = p.relationship.clone();
            o.name = from_name(&p.name);
            o.birth_date = from_date(&p.birth_date, "/patient/birthDate")?;
            o.gender = from_gender(p.gender);
            Ok(())
        }
        (None, Some(_)) => Err(fail(
            "/patient",
            "a rule set added a patient; the claim's patient is its subscriber",
        )),
        (Some(_), None) => Err(fail("/patient", "a rule set removed the claim's patient")),
    }
}

fn payer(p: &party::Payer) -> types::Payer {
    types::Payer {
        name: p.name.clone(),
        id: p.id.as_str().to_string(),
    }
}

fn apply_payer(out: &mut party::Payer, p: &types::Payer) -> Result<(), ConvertError> {
    out.name = p.name.clone();
    out.id = PayerId::parse(&p.id).map_err(|e| fail("/payer/id", e.to_string()))?;
    Ok(())
}

/// A claim a rule set can see and change: professional or institutional.
pub trait RuleClaim: Clone {
    /// The claim as the contract's record.
    fn to_wit(&self) -> Result<types::Claim, ConvertError>;
    /// A rule set's answer onto this claim (see [`apply`]).
    fn apply(&self, transformed: &types::Claim) -> Result<Self, ConvertError>;
    /// The payer whose rule set applies.
    fn payer_id(&self) -> &str;
}

impl RuleClaim for ProfessionalClaim {
    fn to_wit(&self) -> Result<types::Claim, ConvertError> {
        to_wit(self)
    }
    fn apply(&self, transformed: &types::Claim) -> Result<Self, ConvertError> {
        apply(self, transformed)
    }
    fn payer_id(&self) -> &str {
        self.payer.id.as_str()
    }
}

impl RuleClaim for InstitutionalClaim {
    fn to_wit(&self) -> Result<types::Claim, ConvertError> {
        institutional_to_wit(self)
    }
    fn apply(&self, transformed: &types::Claim) -> Result<Self, ConvertError> {
        apply_institutional(self, transformed)
    }
    fn payer_id(&self) -> &str {
        self.payer.id.as_str()
    }
}

impl RuleClaim for Claim {
    fn to_wit(&self) -> Result<types::Claim, ConvertError> {
        match self {
            Self::Professional(c) => c.to_wit(),
            Self::Institutional(c) => c.to_wit(),
        }
    }
    fn apply(&self, transformed: &types::Claim) -> Result<Self, ConvertError> {
        match self {
            Self::Professional(c) => c.apply(transformed).map(Self::Professional),
            Self::Institutional(c) => c.apply(transformed).map(Self::Institutional),
        }
    }
    fn payer_id(&self) -> &str {
        Claim::payer_id(self).as_str()
    }
}

/// What the contract's professional and institutional records both carry, borrowed from
/// either: the claim's number and total and its parties.
struct Shared<'a> {
    patient_control_number: &'a str,
    total_charge: &'a types::Decimal,
    billing_provider: &'a types::Provider,
    subscriber: &'a types::Subscriber,
    patient: &'a Option<types::Patient>,
    payer: &'a types::Payer,
}

impl<'a> From<&'a types::ProfessionalClaim> for Shared<'a> {
    fn from(t: &'a types::ProfessionalClaim) -> Self {
        Self {
            patient_control_number: &t.patient_control_number,
            total_charge: &t.total_charge,
            billing_provider: &t.billing_provider,
            subscriber: &t.subscriber,
            patient: &t.patient,
            payer: &t.payer,
        }
    }
}

impl<'a> From<&'a types::InstitutionalClaim> for Shared<'a> {
    fn from(t: &'a types::InstitutionalClaim) -> Self {
        Self {
            patient_control_number: &t.patient_control_number,
            total_charge: &t.total_charge,
            billing_provider: &t.billing_provider,
            subscriber: &t.subscriber,
            patient: &t.patient,
            payer: &t.payer,
        }
    }
}

/// What a rule set's answer says of the parts both kinds share (the claim's number and total,
/// its billing provider, subscriber, patient and payer), onto a claim of either kind.
fn apply_shared(claim: &mut Claim, shared: Shared<'_>) -> Result<(), ConvertError> {
    let pcn = PatientControlNumber::parse(shared.patient_control_number)
        .map_err(|e| fail("/claim/patientControlNumber", e.to_string()))?;
    let total = from_decimal(shared.total_charge, "/claim/totalCharge")?;
    let billing = {
        let parties = claim.parties();
        from_provider(
            parties.billing_provider,
            shared.billing_provider,
            "/billingProvider",
        )?
    };
    let (number, charge, billing_provider, subscriber, patient, payer) = match claim {
        Claim::Professional(c) => (
            &mut c.claim.patient_control_number,
            &mut c.claim.total_charge,
            &mut c.billing_provider,
            &mut c.subscriber,
            &mut c.patient,
            &mut c.payer,
        ),
        Claim::Institutional(c) => (
            &mut c.claim.patient_control_number,
            &mut c.claim.total_charge,
            &mut c.billing_provider,
            &mut c.subscriber,
            &mut c.patient,
            &mut c.payer,
        ),
    };
    *number = pcn;
    *charge = total;
    *billing_provider = billing;
    apply_subscriber(subscriber, shared.subscriber)?;
    apply_patient(patient, shared.patient)?;
    apply_payer(payer, shared.payer)
}

/// A professional claim as the contract's record.
pub fn to_wit(c: &ProfessionalClaim) -> Result<types::Claim, ConvertError> {
    let info = &c.claim;
    let mut lines = vec![];
    for (k, l) in c.service_lines.iter().enumerate() {
        let at = format!("/serviceLines/{k}");
        lines.push(types::ProfessionalLine {
            procedure_code: l.procedure_code.clone(),
            modifiers: l.modifiers.clone(),
            charge: decimal(l.charge, &format!("{at}/charge"))?,
            units: decimal(l.units, &format!("{at}/units"))?,
            service_date: date(l.service_date, &format!("{at}/serviceDate"))?,
            service_date_end: l
                .service_date_end
                .map(|d| date(d, &format!("{at}/serviceDateEnd")))
                .transpose()?,
            diagnosis_pointers: l.diagnosis_pointers.clone(),
            place_of_service: l.place_of_service.clone(),
            line_control_number: l.line_control_number.clone(),
        });
    }
    Ok(types::Claim::Professional(types::ProfessionalClaim {
        patient_control_number: info.patient_control_number.as_str().to_string(),
        total_charge: decimal(info.total_charge, "/claim/totalCharge")?,
        place_of_service: info.place_of_service.clone(),
        frequency: info.frequency.clone(),
        diagnoses: info.diagnoses.clone(),
        prior_authorization: info.prior_authorization.clone(),
        billing_provider: provider(&c.billing_provider),
        rendering_provider: c.rendering_provider.as_ref().map(provider),
        referring_provider: c.referring_provider.as_ref().map(provider),
        subscriber: subscriber(&c.subscriber)?,
        patient: c.patient.as_ref().map(patient).transpose()?,
        payer: payer(&c.payer),
        lines,
    }))
}

/// `transformed` (a rule set's answer) onto `original`: what the contract carries comes from
/// the rule set, the rest stays as it was. A line the rule set added starts from the defaults;
/// a line it kept (by position) keeps what the contract does not carry.
pub fn apply(
    original: &ProfessionalClaim,
    transformed: &types::Claim,
) -> Result<ProfessionalClaim, ConvertError> {
    let types::Claim::Professional(t) = transformed else {
        return Err(fail(
            "",
            "a rule set turned a professional claim into an institutional one",
        ));
    };
    let mut shared = Claim::from(original.clone());
    apply_shared(&mut shared, Shared::from(t))?;
    let Claim::Professional(mut out) = shared else {
        return Err(fail("", "the claim changed its kind"));
    };
    out.claim.place_of_service = t.place_of_service.clone();
    out.claim.frequency = t.frequency.clone();
    out.claim.diagnoses = t.diagnoses.clone();
    out.claim.prior_authorization = t.prior_authorization.clone();
    out.rendering_provider = optional_provider(
        &original.rendering_provider,
        &t.rendering_provider,
        "/renderingProvider",
    )?;
    out.referring_provider = optional_provider(
        &original.referring_provider,
        &t.referring_provider,
        "/referringProvider",
    )?;
    let mut lines = vec![];
    for (k, l) in t.lines.iter().enumerate() {
        let at = format!("/serviceLines/{k}");
        let base = original.service_lines.get(k).cloned();
        let line = claims::ServiceLine {
            procedure_code: l.procedure_code.clone(),
            modifiers: l.modifiers.clone(),
            charge: from_decimal(&l.charge, &format!("{at}/charge"))?,
            units: from_decimal(&l.units, &format!("{at}/units"))?,
            service_date: from_date(&l.service_date, &format!("{at}/serviceDate"))?,
            service_date_end: l
                .service_date_end
                .as_ref()
                .map(|d| from_date(d, &format!("{at}/serviceDateEnd")))
                .transpose()?,
            diagnosis_pointers: l.diagnosis_pointers.clone(),
            place_of_service: l.place_of_service.clone(),
            line_control_number: l.line_control_number.clone(),
            patient_count: base.as_ref().and_then(|b| b.patient_count),
            drug: base.as_ref().and_then(|b| b.drug.clone()),
            prior_adjudications: base.map(|b| b.prior_adjudications).unwrap_or_default(),
        };
        lines.push(line);
    }
    out.service_lines = lines;
    Ok(out)
}

/// An institutional claim as the contract's record.
pub fn institutional_to_wit(c: &InstitutionalClaim) -> Result<types::Claim, ConvertError> {
    let info = &c.claim;
    let mut lines = vec![];
    for (k, l) in c.service_lines.iter().enumerate() {
        let at = format!("/serviceLines/{k}");
        lines.push(types::InstitutionalLine {
            revenue_code: l.revenue_code.clone(),
            procedure_code: l.procedure_code.clone(),
            modifiers: l.modifiers.clone(),
            charge: decimal(l.charge, &format!("{at}/charge"))?,
            unit_code: l.unit.clone(),
            quantity: decimal(l.quantity, &format!("{at}/quantity"))?,
            service_date: l
                .service_date
                .map(|d| date(d, &format!("{at}/serviceDate")))
                .transpose()?,
        });
    }
    Ok(types::Claim::Institutional(types::InstitutionalClaim {
        patient_control_number: info.patient_control_number.as_str().to_string(),
        total_charge: decimal(info.total_charge, "/claim/totalCharge")?,
        facility_type: info.facility_type.clone(),
        frequency: info.frequency.clone(),
        statement_from: date(info.statement_from, "/claim/statementFrom")?,
        statement_to: date(info.statement_to, "/claim/statementTo")?,
        principal_diagnosis: info.principal_diagnosis.clone(),
        other_diagnoses: info.other_diagnoses.clone(),
        prior_authorization: info.prior_authorization.clone(),
        billing_provider: provider(&c.billing_provider),
        attending_provider: c.attending_provider.as_ref().map(provider),
        subscriber: subscriber(&c.subscriber)?,
        patient: c.patient.as_ref().map(patient).transpose()?,
        payer: payer(&c.payer),
        lines,
    }))
}

/// `transformed` onto an institutional `original`, as [`apply`] does for a professional claim.
pub fn apply_institutional(
    original: &InstitutionalClaim,
    transformed: &types::Claim,
) -> Result<InstitutionalClaim, ConvertError> {
    let types::Claim::Institutional(t) = transformed else {
        return Err(fail(
            "",
            "a rule set turned an institutional claim into a professional one",
        ));
    };
    let mut shared = Claim::from(original.clone());
    apply_shared(&mut shared, Shared::from(t))?;
    let Claim::Institutional(mut out) = shared else {
        return Err(fail("", "the claim changed its kind"));
    };
    out.claim.facility_type = t.facility_type.clone();
    out.claim.frequency = t.frequency.clone();
    out.claim.statement_from = from_date(&t.statement_from, "/claim/statementFrom")?;
    out.claim.statement_to = from_date(&t.statement_to, "/claim/statementTo")?;
    out.claim.principal_diagnosis = t.principal_diagnosis.clone();
    out.claim.other_diagnoses = t.other_diagnoses.clone();
    out.claim.prior_authorization = t.prior_authorization.clone();
    out.attending_provider = optional_provider(
        &original.attending_provider,
        &t.attending_provider,
        "/attendingProvider",
    )?;
    let mut lines = vec![];
    for (k, l) in t.lines.iter().enumerate() {
        let at = format!("/serviceLines/{k}");
        let base = original.service_lines.get(k);
        lines.push(claims::InstitutionalLine {
            revenue_code: l.revenue_code.clone(),
            procedure_code: l.procedure_code.clone(),
            modifiers: l.modifiers.clone(),
            charge: from_decimal(&l.charge, &format!("{at}/charge"))?,
            unit: l.unit_code.clone(),
            quantity: from_decimal(&l.quantity, &format!("{at}/quantity"))?,
            service_date: l
                .service_date
                .as_ref()
                .map(|d| from_date(d, &format!("{at}/serviceDate")))
                .transpose()?,
            line_control_number: base.and_then(|b| b.line_control_number.clone()),
        });
    }
    out.service_lines = lines;
    Ok(out)
}

/// A rule set's findings as `OperationOutcome` issues, each naming the rule set that raised it.
pub fn issues(rule_set: &str, findings: &[types::Finding]) -> Vec<Issue> {
    findings
        .iter()
        .map(|f| Issue {
            severity: match f.severity {
                types::Severity::Error => IssueSeverity::Error,
                types::Severity::Warning => IssueSeverity::Warning,
                types::Severity::Information => IssueSeverity::Information,
            },
            code: IssueType::BusinessRule,
            diagnostics: Some(f.code.clone()),
            details: Details {
                text: format!("{rule_set}: {}", f.message),
            },
            expression: if f.path.is_empty() {
                vec![]
            } else {
                vec![f.path.clone()]
            },
        })
        .collect()
}
