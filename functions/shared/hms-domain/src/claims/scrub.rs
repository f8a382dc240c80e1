//! The claim scrubber: the front-end edits a clearinghouse runs before anything reaches a payer,
//! so that a claim a payer would reject for its shape comes back in seconds, with the field to
//! fix, instead of days later as a denial.
//!
//! Each edit has a stable id (the issue's `diagnostics`) and points at the offending field with a
//! JSON pointer into the claim as sent.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::claims::model::{
    DiagnosisCodes, InstitutionalClaim, InstitutionalClaimInformation, InstitutionalLine,
    ProfessionalClaim, ServiceLine,
};

use crate::claims::claim::{Claim, ClaimKind};
use crate::claims::edits::{self, Edit};
use crate::claims::model::Parties;
use crate::ids::Npi;
use crate::outcome::{Details, Issue, OperationOutcome};
use crate::party::{Address, Provider};

/// Claim filing indicator codes (SBR09, data element 1032) the 837P allows.
const CLAIM_FILING: &[&str] = &[
    "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM", "MA",
    "MB", "MC", "OF", "TV", "VA", "WC", "ZZ",
];
/// Patient relationship codes of loop 2000C (PAT01).
const RELATIONSHIP: &[&str] = &["01", "19", "20", "21", "39", "40", "53", "G8"];

/// Which edits run: all of them by default; a payer's profile switches off the edits it does
/// not want by id (a payer that takes PO box billing addresses, say).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    /// The ids of the edits switched off.
    #[serde(default)]
    pub off: Vec<String>,
}

impl Profile {
    /// A profile with the edits `off` switched off; an id no edit has is refused by name, so
    /// that a typo does not leave an edit on unnoticed.
    pub fn switching_off(off: &[&str]) -> Result<Self, UnknownEdit> {
        match off.iter().find(|id| edits::edit(id).is_none()) {
            Some(id) => Err(UnknownEdit((*id).to_string())),
            None => Ok(Self {
                off: off.iter().map(|id| (*id).to_string()).collect(),
            }),
        }
    }

    fn is_off(&self, edit: &Edit) -> bool {
        self.off.iter().any(|id| id == edit.id)
    }
}

/// A profile named an edit that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no scrubber edit has the id {0:?} (`hms scrub --list-edits` lists them)")]
pub struct UnknownEdit(pub String);

/// Every edit that applies to `claim` and that `profile` leaves on; `today` is the date
/// service dates may not be after.
pub fn scrub(claim: &Claim, today: NaiveDate, profile: &Profile) -> OperationOutcome {
    match claim {
        Claim::Professional(c) => professional(c, today, profile),
        Claim::Institutional(c) => institutional(c, today, profile),
    }
}

/// The longest text each field of our claim JSON may hold, by its name: the maximum length of
/// the 837 element that carries it (NM103 60, NM104 35, NM105 25, NM107 10, N301 55, N401 30,
/// N403 15, NM109 80, SBR03 50, CLM01 38, REF02 50, CR109/CR110 80). Any other text is held to 264, the longest any 5010
/// element allows.
const TEXT_LIMITS: &[(&str, usize)] = &[
    ("last", 60),
    ("name", 60),
    ("first", 35),
    ("middle", 25),
    ("suffix", 10),
    ("lines", 55),
    ("city", 30),
    ("postalCode", 15),
    ("memberId", 80),
    ("groupNumber", 50),
    ("patientControlNumber", 38),
    ("dropoffName", 60),
    ("id", 80),
    ("lineControlNumber", 50),
    ("priorAuthorization", 50),
    ("payerClaimNumber", 50),
    ("referralNumber", 50),
    ("stretcherPurpose", 80),
    ("roundTripPurpose", 80),
];

/// Whether `code` is a State or Province Code (X12 element 156, code source 22: USPS and
/// Canada Post), as our validator holds N402 and CLM11-4 to it: two letters are not enough
/// ("TA" is none).
fn is_state_code(code: &str) -> bool {
    let listed = hms_x12::spec::Catalog::embedded()
        .ok()
        .and_then(|c| c.dictionary.elements.get("156"))
        .and_then(|e| e.codes.as_ref())
        .map(|codes| codes.iter().any(|c| c == code));
    // Without the embedded dictionary (a defect of the build) the shape is all there is.
    listed.unwrap_or_else(|| code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
}

/// Longest text in any other field.
const ANY_TEXT: usize = 264;

/// The year of `text` when it is shaped as a calendar date as chrono writes one (`CCYY-MM-DD`,
/// with a sign and more digits for years outside 0..=9999).
fn date_year(text: &str) -> Option<i64> {
    let (sign, body) = match text.strip_prefix('-') {
        Some(body) => (-1, body),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let mut parts = body.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let shaped = parts.next().is_none()
        && (4..=9).contains(&year.len())
        && month.len() == 2
        && day.len() == 2
        && digits(year)
        && digits(month)
        && digits(day);
    Some(sign * year.parse::<i64>().ok().filter(|_| shaped)?)
}

/// The findings of one text at `at` (a JSON pointer into the claim): a control character, a
/// length past its element's, a date whose year X12 cannot carry. Most texts have none, and
/// then nothing is allocated.
fn text_findings(at: &str, text: &str) -> Vec<(&'static Edit, String)> {
    let mut found = vec![];
    let field = at
        .rsplit('/')
        .find(|part| !part.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_default();
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        found.push((
            &edits::TEXT_CHARACTERS,
            format!(
                "the text holds a control character (U+{:04X})",
                u32::from(c)
            ),
        ));
    }
    let limit = TEXT_LIMITS
        .iter()
        .find(|(name, _)| *name == field)
        .map_or(ANY_TEXT, |(_, limit)| *limit);
    let length = text.chars().count();
    if length > limit {
        found.push((
            &edits::TEXT_LENGTH,
            format!("the text is {length} characters; the 837 takes at most {limit} here"),
        ));
    }
    if let Some(year) = date_year(text)
        && !(1850..=2199).contains(&year)
    {
        found.push((
            &edits::DATE_RANGE,
            format!("the year {year} is not between 1850 and 2199"),
        ));
    }
    found
}

/// Runs every edit on a professional claim.
fn professional(
    claim: &ProfessionalClaim,
    today: NaiveDate,
    profile: &Profile,
) -> OperationOutcome {
    let mut found = Edits::new(profile);
    found.text_and_dates_of(claim);
    let c = &claim.claim;
    professional_diagnoses(&mut found, claim);
    professional_codes(&mut found, claim);

    // Required by the TR3 in situations.
    let parties = claim.parties();
    let providers = [
        ("/renderingProvider", claim.rendering_provider.as_ref()),
        ("/referringProvider", claim.referring_provider.as_ref()),
    ];
    let birth = found.parties(&parties, &providers, today);

    // Service lines.
    let lines = &claim.service_lines;
    for (i, line) in lines.iter().enumerate() {
        found.line(i, line, c.diagnoses.len(), birth.map(|(b, _)| b), today);
    }
    found.lines_and_total(
        ClaimKind::Professional,
        c.total_charge,
        lines.iter().map(|l| l.charge),
    );
    found.coordination(claim);
    found.ambulance(claim);
    found.related_causes(c);
    if let Some(onset) = c.onset_date
        && let Some(first) = lines.iter().map(|l| l.service_date).min()
        && onset > first
    {
        found.flag(
            &edits::ONSET_AFTER_SERVICE,
            "/claim/onsetDate",
            format!("the onset date {onset} is after the first date of service {first}"),
        );
    }
    OperationOutcome::new(found.issues)
}

/// Diagnoses: 1 to 12 ICD-10-CM codes (or ICD-9-CM before its end), no repeats.
fn professional_diagnoses(found: &mut Edits<'_>, claim: &ProfessionalClaim) {
    let c = &claim.claim;
    if c.diagnoses.is_empty() {
        found.flag(
            &edits::DIAGNOSIS_REQUIRED,
            "/claim/diagnoses",
            "at least one diagnosis (the principal) is required".into(),
        );
    }
    if c.diagnoses.len() > 12 {
        found.flag(
            &edits::DIAGNOSIS_COUNT,
            "/claim/diagnoses",
            format!(
                "an 837P carries at most 12 diagnoses; this claim has {}",
                c.diagnoses.len()
            ),
        );
    }
    let icd9 = c.diagnosis_codes == DiagnosisCodes::Icd9Cm;
    if icd9
        && let Some((k, line)) = claim
            .service_lines
            .iter()
            .enumerate()
            .find(|(_, l)| l.service_date >= ICD10_COMPLIANCE)
    {
        found.flag(
            &edits::ICD9_AFTER_ICD10_DATE,
            &format!("/serviceLines/{k}/serviceDate"),
            format!(
                "ICD-9-CM diagnoses are for services before {ICD10_COMPLIANCE}; this line is of {}",
                line.service_date
            ),
        );
    }
    for (i, code) in c.diagnoses.iter().enumerate() {
        if icd9 {
            if !icd9cm_shape(code) {
                found.flag(&edits::ICD9_SHAPE, &format!("/claim/diagnoses/{i}"),
                    format!("{code:?} is not shaped like an ICD-9-CM diagnosis code (3 to 5 digits, V and 2 to 4 digits, or E and 3 or 4 digits; a dot after the category is allowed)"));
            }
        } else if !icd10cm_shape(code) {
            found.flag(&edits::ICD10_SHAPE, &format!("/claim/diagnoses/{i}"),
                format!("{code:?} is not shaped like an ICD-10-CM code (a letter, a digit, then 1 to 5 letters or digits; a dot after the third is allowed)"));
        }
        if c.diagnoses
            .iter()
            .take(i)
            .any(|d| normal(d) == normal(code))
        {
            found.flag(
                &edits::DIAGNOSIS_REPEATED,
                &format!("/claim/diagnoses/{i}"),
                format!("diagnosis {code} is listed twice"),
            );
        }
    }
}

/// The claim's codes with fixed lists.
fn professional_codes(found: &mut Edits<'_>, claim: &ProfessionalClaim) {
    let c = &claim.claim;
    found.claim_filing(
        "/subscriber/claimFilingIndicator",
        &claim.subscriber.claim_filing_indicator,
    );
    if !place_of_service(&c.place_of_service) {
        found.flag(&edits::PLACE_OF_SERVICE,
            "/claim/placeOfService",
            format!(
                "{:?} is not a CMS place of service code (such as 11 office, 22 on campus outpatient hospital)",
                c.place_of_service
            ),
        );
    }
    if !["1", "7", "8"].contains(&c.frequency.as_str()) {
        found.flag(
            &edits::FREQUENCY,
            "/claim/frequency",
            format!(
                "{:?} is not a professional claim frequency (1 original, 7 replacement, 8 void)",
                c.frequency
            ),
        );
    }
    if !["A", "B", "C"].contains(&c.assignment.as_str()) {
        found.flag(
            &edits::ASSIGNMENT,
            "/claim/assignment",
            format!("{:?} is not an assignment code (A, B or C)", c.assignment),
        );
    }
    if !["I", "Y"].contains(&c.release_of_information.as_str()) {
        found.flag(
            &edits::RELEASE_OF_INFORMATION,
            "/claim/releaseOfInformation",
            format!(
                "{:?} is not a release of information code (I or Y)",
                c.release_of_information
            ),
        );
    }
}

/// Patient discharge status codes (CL103, NUBC) the 837I allows.
const PATIENT_STATUS: &[&str] = &[
    "01", "02", "03", "04", "05", "06", "07", "09", "20", "21", "30", "40", "41", "42", "43", "50",
    "51", "61", "62", "63", "64", "65", "66", "69", "70", "81", "82", "83", "84", "85", "86", "87",
    "88", "89", "90", "91", "92", "93", "94", "95",
];

/// Runs every edit on an institutional claim.
fn institutional(
    claim: &InstitutionalClaim,
    today: NaiveDate,
    profile: &Profile,
) -> OperationOutcome {
    let mut found = Edits::new(profile);
    found.text_and_dates_of(claim);
    let c = &claim.claim;
    let parties = claim.parties();
    let providers = [
        ("/attendingProvider", claim.attending_provider.as_ref()),
        ("/operatingProvider", claim.operating_provider.as_ref()),
    ];
    let birth = found.parties(&parties, &providers, today).map(|(b, _)| b);
    if let Some(a) = &claim.billing_provider.address
        && a.postal_code.chars().filter(char::is_ascii_digit).count() == 5
    {
        found.flag(&edits::BILLING_ZIP9, "/billingProvider/address/postalCode",
            "the billing provider's ZIP code needs its 4-digit extension: the 837I requires all 9 digits there (2010AA N403)".into());
    }
    found.claim_filing(
        "/subscriber/claimFilingIndicator",
        &claim.subscriber.claim_filing_indicator,
    );
    bill(&mut found, c, today);
    // Inpatient bills (hospital and skilled nursing inpatient: classification 1 or 2) need the
    // admission and the admitting diagnosis.
    let inpatient = matches!(c.facility_type.as_bytes(), [_, b'1' | b'2']);
    admission(&mut found, c, inpatient, birth);
    if claim.attending_provider.is_none() {
        found.flag(
            &edits::ATTENDING_PROVIDER,
            "/attendingProvider",
            "the attending provider is required (loop 2310A)".into(),
        );
    }
    institutional_diagnoses(&mut found, c);
    institutional_procedures(&mut found, c);
    let lines = &claim.service_lines;
    for (i, line) in lines.iter().enumerate() {
        found.institutional_line(i, line, c.statement_from, c.statement_to, !inpatient);
    }
    found.lines_and_total(
        ClaimKind::Institutional,
        c.total_charge,
        lines.iter().map(|l| l.charge),
    );
    OperationOutcome::new(found.issues)
}

/// The type of bill, the discharge status and the statement period.
fn bill(found: &mut Edits<'_>, c: &InstitutionalClaimInformation, today: NaiveDate) {
    if !two_digits(&c.facility_type) || c.facility_type.starts_with('0') {
        found.flag(&edits::FACILITY_TYPE, "/claim/facilityType",
            format!("{:?} is not a type of bill's facility and classification (two digits, such as 11 hospital inpatient or 13 hospital outpatient)", c.facility_type));
    }
    if !(c.frequency.len() == 1 && c.frequency.bytes().all(|b| b.is_ascii_alphanumeric())) {
        found.flag(&edits::FREQUENCY, "/claim/frequency",
            format!("{:?} is not a claim frequency (one character: 1 admit through discharge, 7 replacement, 8 void, ...)", c.frequency));
    }
    if !PATIENT_STATUS.contains(&c.patient_status.as_str()) {
        found.flag(&edits::PATIENT_STATUS, "/claim/patientStatus",
            format!("{:?} is not a patient discharge status code (01 home, 02 hospital, 03 skilled nursing, 20 expired, 30 still a patient, ...)", c.patient_status));
    }
    if c.statement_from > c.statement_to {
        found.flag(
            &edits::STATEMENT_PERIOD,
            "/claim/statementTo",
            format!(
                "the statement period ends ({}) before it starts ({})",
                c.statement_to, c.statement_from
            ),
        );
    }
    if c.statement_to > today {
        found.flag(
            &edits::STATEMENT_IN_FUTURE,
            "/claim/statementTo",
            format!(
                "the statement period ends in the future ({})",
                c.statement_to
            ),
        );
    }
}

/// The admission (required of inpatient bills) and the discharge hour.
fn admission(
    found: &mut Edits<'_>,
    c: &InstitutionalClaimInformation,
    inpatient: bool,
    birth: Option<NaiveDate>,
) {
    if inpatient {
        if c.admission.is_none() {
            found.flag(
                &edits::ADMISSION_REQUIRED,
                "/claim/admission",
                "an inpatient bill needs the admission (date, type)".into(),
            );
        }
        if c.admitting_diagnosis.is_none() {
            found.flag(
                &edits::ADMITTING_DIAGNOSIS_REQUIRED,
                "/claim/admittingDiagnosis",
                "an inpatient bill needs the admitting diagnosis".into(),
            );
        }
    }
    if let Some(admission) = &c.admission {
        if admission.date > c.statement_to {
            found.flag(
                &edits::ADMISSION_AFTER_STATEMENT,
                "/claim/admission/date",
                format!(
                    "the admission ({}) is after the statement period ends ({})",
                    admission.date, c.statement_to
                ),
            );
        }
        if let Some(birth) = birth
            && admission.date < birth
        {
            found.flag(
                &edits::ADMISSION_BEFORE_BIRTH,
                "/claim/admission/date",
                format!(
                    "the admission ({}) is before the patient's birth ({birth})",
                    admission.date
                ),
            );
        }
        if !["1", "2", "3", "4", "5", "9"].contains(&admission.type_code.as_str()) {
            found.flag(&edits::ADMISSION_TYPE, "/claim/admission/typeCode",
                format!("{:?} is not an admission type (1 emergency, 2 urgent, 3 elective, 4 newborn, 5 trauma, 9 unknown)", admission.type_code));
        }
        if let Some(hour) = &admission.hour
            && !hhmm(hour)
        {
            found.flag(
                &edits::ADMISSION_HOUR,
                "/claim/admission/hour",
                format!("{hour:?} is not an HHMM hour"),
            );
        }
    }
    if let Some(hour) = &c.discharge_hour
        && !hhmm(hour)
    {
        found.flag(
            &edits::DISCHARGE_HOUR,
            "/claim/dischargeHour",
            format!("{hour:?} is not an HHMM hour"),
        );
    }
}

/// The principal, admitting and other diagnoses.
fn institutional_diagnoses(found: &mut Edits<'_>, c: &InstitutionalClaimInformation) {
    let mut diagnoses = vec![(
        "/claim/principalDiagnosis".to_string(),
        &c.principal_diagnosis,
    )];
    if let Some(d) = &c.admitting_diagnosis {
        diagnoses.push(("/claim/admittingDiagnosis".into(), d));
    }
    diagnoses.extend(
        c.other_diagnoses
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("/claim/otherDiagnoses/{i}"), d)),
    );
    let icd9 = c.diagnosis_codes == DiagnosisCodes::Icd9Cm;
    if icd9 && c.statement_to >= ICD10_COMPLIANCE {
        found.flag(
            &edits::ICD9_AFTER_ICD10_DATE,
            "/claim/statementTo",
            format!(
                "ICD-9-CM codes are for services before {ICD10_COMPLIANCE}; this bill runs to {}",
                c.statement_to
            ),
        );
    }
    for (at, code) in &diagnoses {
        if icd9 && !icd9cm_shape(code) {
            found.flag(
                &edits::ICD9_SHAPE,
                at,
                format!("{code:?} is not shaped like an ICD-9-CM diagnosis code"),
            );
        } else if !icd9 && !icd10cm_shape(code) {
            found.flag(
                &edits::ICD10_SHAPE,
                at,
                format!("{code:?} is not shaped like an ICD-10-CM code"),
            );
        }
    }
    if c.other_diagnoses.len() > 24 {
        found.flag(
            &edits::DIAGNOSIS_COUNT,
            "/claim/otherDiagnoses",
            format!(
                "an 837I carries at most 24 other diagnoses; this claim has {}",
                c.other_diagnoses.len()
            ),
        );
    }
}

/// The principal and other procedures (ICD-10-PCS, or ICD-9-CM before its end).
fn institutional_procedures(found: &mut Edits<'_>, c: &InstitutionalClaimInformation) {
    let icd9 = c.diagnosis_codes == DiagnosisCodes::Icd9Cm;
    let procedures = c
        .principal_procedure
        .iter()
        .map(|p| ("/claim/principalProcedure".to_string(), p))
        .chain(
            c.other_procedures
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("/claim/otherProcedures/{i}"), p)),
        );
    for (at, p) in procedures {
        // ICD-9-CM procedures: two digits, a dot allowed, one or two more.
        let icd9_procedure = |code: &str| {
            let digits: String = code.chars().filter(|c| *c != '.').collect();
            (3..=4).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        };
        if icd9 {
            if !icd9_procedure(&p.code) {
                found.flag(
                    &edits::ICD9_PROCEDURE_SHAPE,
                    &format!("{at}/code"),
                    format!(
                        "{:?} is not shaped like an ICD-9-CM procedure code (3 or 4 digits)",
                        p.code
                    ),
                );
            }
        } else if !(p.code.len() == 7
            && p.code
                .bytes()
                .all(|b| b.is_ascii_digit() || (b.is_ascii_uppercase() && b != b'I' && b != b'O')))
        {
            found.flag(&edits::ICD10PCS_SHAPE, &format!("{at}/code"),
                format!("{:?} is not shaped like an ICD-10-PCS code (seven letters and digits, no I or O)", p.code));
        }
        if p.date < c.statement_from || p.date > c.statement_to {
            found.flag(
                &edits::PROCEDURE_DATE,
                &format!("{at}/date"),
                format!(
                    "the procedure date {} is outside the statement period",
                    p.date
                ),
            );
        }
    }
}

fn hhmm(hour: &str) -> bool {
    hour.len() == 4
        && hour.bytes().all(|b| b.is_ascii_digit())
        && hour.split_at_checked(2).is_some_and(|(h, m)| {
            h.parse::<u8>().is_ok_and(|h| h < 24) && m.parse::<u8>().is_ok_and(|m| m < 60)
        })
}

/// The findings of one claim's edits, less those its payer's profile switches off.
struct Edits<'p> {
    profile: &'p Profile,
    issues: Vec<Issue>,
}

impl<'p> Edits<'p> {
    fn new(profile: &'p Profile) -> Self {
        Self {
            profile,
            issues: vec![],
        }
    }

    /// Every text of `claim`, as our JSON spells it, checked for control characters and its
    /// element's length, and every date for a year X12 can carry: the edits that hold for
    /// every field alike, whatever the claim's kind. The texts are visited as the claim
    /// serializes (no `serde_json::Value` built); the findings come in the order of the
    /// claim's JSON object keys, as they did when that tree was walked.
    fn text_and_dates_of(&mut self, claim: &impl serde::Serialize) {
        // Our claim's JSON nests a few levels; a deeper one is not ours.
        const DEPTH: usize = 16;
        let mut found: Vec<(Vec<crate::json_leaves::Step>, &'static Edit, String, String)> = vec![];
        let walked = crate::json_leaves::text_leaves(claim, DEPTH, &mut |at, text| {
            for (edit, message) in text_findings(at.as_str(), text) {
                found.push((at.key(), edit, at.as_str().to_string(), message));
            }
        });
        if walked.is_err() {
            return;
        }
        // Stable: one text's findings keep their order.
        found.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, edit, at, message) in found {
            self.flag(edit, &at, message);
        }
    }

    /// A finding of `edit` at `at`, unless the profile switches the edit off.
    fn flag(&mut self, edit: &'static Edit, at: &str, text: String) {
        if self.profile.is_off(edit) {
            return;
        }
        self.issues.push(Issue {
            severity: edit.severity,
            code: edit.code,
            diagnostics: Some(edit.id.to_string()),
            details: Details { text },
            expression: vec![at.to_string()],
        });
    }

    /// A claim filing indicator (SBR09) from the TR3's list.
    fn claim_filing(&mut self, at: &str, code: &str) {
        if !CLAIM_FILING.contains(&code) {
            self.flag(&edits::CLAIM_FILING_INDICATOR, at,
                format!("{code:?} is not a claim filing indicator code (SBR09: CI commercial, MB Medicare Part B, MC Medicaid, BL Blue Cross, ...)"));
        }
    }

    /// A claim has as many lines as its kind allows, and its total charge is their sum.
    fn lines_and_total(
        &mut self,
        kind: ClaimKind,
        total: Decimal,
        charges: impl ExactSizeIterator<Item = Decimal>,
    ) {
        let (name, most) = match kind {
            ClaimKind::Professional => ("837P", 50),
            ClaimKind::Institutional => ("837I", 999),
        };
        let count = charges.len();
        if count == 0 || count > most {
            self.flag(
                &edits::LINE_COUNT,
                "/serviceLines",
                format!("an {name} claim has 1 to {most} service lines; this one has {count}"),
            );
        }
        self.charge_total(total, charges.sum());
    }

    /// What every line is held to: at most four modifiers, a charge that is not negative
    /// (more than zero on a professional line), and units (or days) above zero.
    fn line_amounts(
        &mut self,
        at: &str,
        kind: ClaimKind,
        modifiers: usize,
        charge: Decimal,
        units: Decimal,
    ) {
        if modifiers > 4 {
            self.flag(
                &edits::MODIFIER_COUNT,
                &format!("{at}/modifiers"),
                format!("a line carries at most 4 modifiers; this one has {modifiers}"),
            );
        }
        let (charge_ok, charge_text) = match kind {
            ClaimKind::Professional => (
                charge > Decimal::ZERO,
                format!("a line charge must be more than zero, not {charge}"),
            ),
            ClaimKind::Institutional => (
                charge >= Decimal::ZERO,
                format!("a line charge cannot be negative ({charge})"),
            ),
        };
        if !charge_ok {
            self.flag(&edits::LINE_CHARGE, &format!("{at}/charge"), charge_text);
        }
        if units <= Decimal::ZERO {
            let (field, what) = match kind {
                ClaimKind::Professional => ("units", "units of service"),
                ClaimKind::Institutional => ("quantity", "units or days"),
            };
            self.flag(
                &edits::LINE_UNITS,
                &format!("{at}/{field}"),
                format!("{what} must be more than zero, not {units}"),
            );
        }
    }

    /// The claim's total charge is the sum of its lines' charges.
    fn charge_total(&mut self, total: Decimal, lines: Decimal) {
        if total != lines {
            self.flag(
                &edits::CHARGE_TOTAL,
                "/claim/totalCharge",
                format!("the total charge {total} is not the sum of the line charges, {lines}"),
            );
        }
    }

    fn institutional_line(
        &mut self,
        i: usize,
        line: &InstitutionalLine,
        from: NaiveDate,
        to: NaiveDate,
        outpatient: bool,
    ) {
        let at = format!("/serviceLines/{i}");
        if !(line.revenue_code.len() == 4 && line.revenue_code.bytes().all(|b| b.is_ascii_digit()))
        {
            self.flag(
                &edits::REVENUE_CODE,
                &format!("{at}/revenueCode"),
                format!(
                    "{:?} is not a revenue code (four digits, such as 0450)",
                    line.revenue_code
                ),
            );
        }
        if let Some(code) = &line.procedure_code
            && !procedure_shape(code)
        {
            self.flag(
                &edits::PROCEDURE_SHAPE,
                &format!("{at}/procedureCode"),
                format!("{code:?} is not shaped like a CPT or HCPCS code"),
            );
        }
        if line.procedure_code.is_none() && !line.modifiers.is_empty() {
            self.flag(
                &edits::MODIFIER_WITHOUT_PROCEDURE,
                &format!("{at}/modifiers"),
                "modifiers need a procedure code".into(),
            );
        }
        self.line_amounts(
            &at,
            ClaimKind::Institutional,
            line.modifiers.len(),
            line.charge,
            line.quantity,
        );
        if !["UN", "DA"].contains(&line.unit.as_str()) {
            self.flag(
                &edits::LINE_UNIT,
                &format!("{at}/unit"),
                format!("{:?} is not a unit (UN units, DA days)", line.unit),
            );
        }
        match line.service_date {
            Some(date) if date < from || date > to => {
                self.flag(
                    &edits::SERVICE_OUTSIDE_STATEMENT,
                    &format!("{at}/serviceDate"),
                    format!(
                        "the date of service {date} is outside the statement period {from} to {to}"
                    ),
                );
            }
            None if outpatient && line.procedure_code.is_some() => {
                self.flag(
                    &edits::SERVICE_DATE_REQUIRED,
                    &format!("{at}/serviceDate"),
                    "an outpatient line with a procedure code needs its date of service".into(),
                );
            }
            _ => {}
        }
    }

    /// The edits every claim type shares: billing provider, submitter contact, subscriber and
    /// patient, and the NPI check digit and taxonomy of each provider in `providers`. Returns the patient's birth
    /// date and where it is, for the date found.
    fn parties<'c>(
        &mut self,
        parties: &Parties<'c>,
        providers: &[(&str, Option<&Provider>)],
        today: NaiveDate,
    ) -> Option<(NaiveDate, &'static str)> {
        let billing = parties.billing_provider;
        match &billing.address {
            None => self.flag(
                &edits::BILLING_ADDRESS,
                "/billingProvider/address",
                "the billing provider's address is required".into(),
            ),
            Some(a) => {
                self.address("/billingProvider/address", a);
                if a.lines.iter().any(|l| po_box(l)) {
                    self.flag(&edits::BILLING_ADDRESS_PO_BOX, "/billingProvider/address/lines",
                        "the billing provider's address must be a street address, not a PO box (use payToAddress for a PO box)".into());
                }
            }
        }
        if billing.npi.is_none() {
            self.flag(
                &edits::BILLING_NPI,
                "/billingProvider/npi",
                "the billing provider's NPI is required".into(),
            );
        }
        if billing.tax_id.is_none() {
            self.flag(
                &edits::BILLING_TAX_ID,
                "/billingProvider/taxId",
                "the billing provider's tax id (EIN or SSN) is required".into(),
            );
        }
        for (at, provider) in [("/billingProvider", Some(billing))]
            .iter()
            .chain(providers)
        {
            if let Some(Err(e)) = provider.and_then(|p| p.npi.as_ref()).map(Npi::check) {
                self.flag(
                    &edits::NPI_CHECK_DIGIT,
                    &format!("{at}/npi"),
                    format!("{e}: mistyped, or not an NPI"),
                );
            }
            if let Some(taxonomy) = provider.and_then(|p| p.taxonomy.as_deref())
                && !taxonomy_shape(taxonomy)
            {
                self.flag(&edits::TAXONOMY_SHAPE, &format!("{at}/taxonomy"),
                    format!("{taxonomy:?} is not shaped like a provider taxonomy code (10 characters, such as 207Q00000X)"));
            }
        }
        let contact = &parties.submitter.contact;
        if contact.phone.is_none() && contact.email.is_none() {
            self.flag(
                &edits::SUBMITTER_CONTACT,
                "/submitter/contact",
                "a phone number or an email address for the submitter's contact is required".into(),
            );
        }
        if let Some(phone) = &contact.phone
            && !(phone.len() == 10 && phone.bytes().all(|b| b.is_ascii_digit()))
        {
            self.flag(
                &edits::PHONE,
                "/submitter/contact/phone",
                format!("{phone:?} is not a ten-digit phone number"),
            );
        }
        let sub = parties.subscriber;
        let birth = match parties.patient {
            None => {
                for (missing, field) in [
                    (sub.address.is_none(), "address"),
                    (sub.birth_date.is_none(), "birthDate"),
                    (sub.gender.is_none(), "gender"),
                ] {
                    if missing {
                        self.flag(&edits::SUBSCRIBER_DEMOGRAPHICS, &format!("/subscriber/{field}"),
                            format!("the subscriber's {field} is required when the subscriber is the patient"));
                    }
                }
                if let Some(a) = &sub.address {
                    self.address("/subscriber/address", a);
                }
                sub.birth_date.map(|b| (b, "/subscriber/birthDate"))
            }
            Some(patient) => {
                if !RELATIONSHIP.contains(&patient.relationship.as_str()) {
                    self.flag(&edits::PATIENT_RELATIONSHIP, "/patient/relationship",
                        format!("{:?} is not a patient relationship code (01 spouse, 19 child, 20 employee, 21 unknown, 39, 40, 53 life partner, G8 other)", patient.relationship));
                }
                self.address("/patient/address", &patient.address);
                Some((patient.birth_date, "/patient/birthDate"))
            }
        };
        if let Some((birth, at)) = birth
            && birth > today
        {
            self.flag(
                &edits::BIRTH_IN_FUTURE,
                at,
                format!("birth date {birth} is in the future"),
            );
        }
        birth
    }

    /// Ambulance: transport information is present exactly when a line bills an ambulance
    /// service (HCPCS A0021-A0999), and its codes are the TR3's.
    fn ambulance(&mut self, claim: &ProfessionalClaim) {
        let ambulance_line = claim.service_lines.iter().position(|l| {
            let code = l.procedure_code.as_bytes();
            code.len() == 5
                && code.starts_with(b"A0")
                && l.procedure_code
                    .strip_prefix('A')
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| (21..=999).contains(&n))
        });
        let ambulance_line = ambulance_line
            .and_then(|i| Some((i, claim.service_lines.get(i)?.procedure_code.as_str())));
        match (&claim.ambulance, ambulance_line) {
            (None, Some((i, code))) => self.flag(&edits::AMBULANCE_MISSING, "/ambulance",
                format!("line {} bills an ambulance service ({code}); the transport information (reason, miles, pick-up and drop-off) is required", i + 1)),
            (Some(amb), _) => {
                if !["A", "B", "C", "D", "E"].contains(&amb.reason.as_str()) {
                    self.flag(&edits::AMBULANCE_REASON, "/ambulance/reason",
                        format!("{:?} is not an ambulance transport reason (A to E)", amb.reason));
                }
                if amb.miles <= Decimal::ZERO {
                    self.flag(&edits::AMBULANCE_MILES, "/ambulance/miles",
                        "loaded miles must be more than zero".into());
                }
                if amb.certifications.len() > 3 {
                    self.flag(&edits::AMBULANCE_CERTIFICATIONS, "/ambulance/certifications",
                        "at most three certification segments".into());
                }
                for (k, cert) in amb.certifications.iter().enumerate() {
                    if cert.conditions.is_empty() || cert.conditions.len() > 5 {
                        self.flag(&edits::AMBULANCE_CONDITIONS, &format!("/ambulance/certifications/{k}/conditions"),
                            "one to five condition codes".into());
                    }
                    for (m, code) in cert.conditions.iter().enumerate() {
                        if !["01", "04", "05", "06", "07", "08", "09", "12"].contains(&code.as_str()) {
                            self.flag(&edits::AMBULANCE_CONDITION, &format!("/ambulance/certifications/{k}/conditions/{m}"),
                                format!("{code:?} is not an ambulance condition code (01, 04, 05, 06, 07, 08, 09, 12)"));
                        }
                    }
                }
                self.address("/ambulance/pickup", &amb.pickup);
                self.address("/ambulance/dropoff", &amb.dropoff);
            }
            (None, None) => {}
        }
    }

    /// What the services are related to (CLM11-1, -2) and, for an auto accident, where it
    /// happened (CLM11-4): the writer has room for two causes, each a code of its list once.
    fn related_causes(&mut self, c: &crate::claims::model::ClaimInformation) {
        for (k, cause) in c.related_causes.iter().enumerate() {
            if !["AA", "EM", "OA"].contains(&cause.as_str()) {
                self.flag(
                    &edits::RELATED_CAUSES,
                    &format!("/claim/relatedCauses/{k}"),
                    format!("{cause:?} is not a related cause (AA auto accident, EM employment, OA other accident)"),
                );
            } else if c
                .related_causes
                .iter()
                .take(k)
                .any(|earlier| earlier == cause)
            {
                self.flag(
                    &edits::RELATED_CAUSES,
                    &format!("/claim/relatedCauses/{k}"),
                    format!("{cause:?} is listed twice"),
                );
            }
        }
        if c.related_causes.len() > 2 {
            self.flag(
                &edits::RELATED_CAUSES,
                "/claim/relatedCauses",
                format!(
                    "an 837P carries at most two related causes; this claim has {}",
                    c.related_causes.len()
                ),
            );
        }
        let auto = c.related_causes.iter().any(|cause| cause == "AA");
        match &c.accident_state {
            Some(state) if !auto => self.flag(
                &edits::ACCIDENT_STATE,
                "/claim/accidentState",
                format!(
                    "{state:?} is an accident state, but the claim names no auto accident (AA)"
                ),
            ),
            Some(state) if !is_state_code(state) => self.flag(
                &edits::ACCIDENT_STATE,
                "/claim/accidentState",
                format!(
                    "{state:?} is not a US state or Canadian province code (USPS, Canada Post)"
                ),
            ),
            None if auto => self.flag(
                &edits::ACCIDENT_STATE,
                "/claim/accidentState",
                "an auto accident (AA) names the state it happened in".into(),
            ),
            _ => {}
        }
    }

    /// Each of another payer's adjustments (at `at`) has a claim adjustment group code.
    fn adjustment_groups(
        &mut self,
        at: &str,
        adjustments: &[crate::claims::model::ClaimAdjustment],
    ) {
        for (j, a) in adjustments.iter().enumerate() {
            if !["CO", "CR", "OA", "PI", "PR"].contains(&a.group.as_str()) {
                self.flag(
                    &edits::COB_ADJUSTMENT_GROUP,
                    &format!("{at}/adjustments/{j}/group"),
                    format!(
                        "{:?} is not an adjustment group (CO, CR, OA, PI, PR)",
                        a.group
                    ),
                );
            }
        }
    }

    /// Coordination of benefits: every line adjudication names a known other payer and
    /// balances (charge = paid + adjustments), and a payer's claim-level paid amount equals its
    /// lines' payments.
    fn coordination(&mut self, claim: &ProfessionalClaim) {
        if claim.other_coverage.is_empty()
            && claim.subscriber.responsibility != crate::claims::model::Responsibility::Primary
        {
            self.flag(&edits::COB_MISSING, "/otherCoverage",
                "a secondary or tertiary claim must describe the payer(s) before it (otherCoverage)".into());
        }
        for (k, other) in claim.other_coverage.iter().enumerate() {
            let at = format!("/otherCoverage/{k}");
            self.claim_filing(
                &format!("{at}/claimFilingIndicator"),
                &other.claim_filing_indicator,
            );
            if other.relationship != "18" && !RELATIONSHIP.contains(&other.relationship.as_str()) {
                self.flag(&edits::PATIENT_RELATIONSHIP, &format!("{at}/relationship"),
                    format!("{:?} is not an individual relationship code (18 self, 01 spouse, 19 child, ...)", other.relationship));
            }
            if other.payer.id == claim.payer.id {
                self.flag(
                    &edits::COB_SAME_PAYER,
                    &format!("{at}/payer/id"),
                    "the other coverage names the payer this claim is sent to".into(),
                );
            }
            self.adjustment_groups(&at, &other.adjustments);
            let lines: Decimal = claim
                .service_lines
                .iter()
                .flat_map(|l| &l.prior_adjudications)
                .filter(|a| a.payer_id == other.payer.id)
                .map(|a| a.paid)
                .sum();
            let has_lines = claim
                .service_lines
                .iter()
                .flat_map(|l| &l.prior_adjudications)
                .any(|a| a.payer_id == other.payer.id);
            if let Some(paid) = other.paid
                && has_lines
                && paid != lines
            {
                self.flag(&edits::COB_PAID_TOTAL, &format!("{at}/paid"),
                    format!("the other payer's paid amount {paid} is not the sum of its line payments, {lines}"));
            }
            if other.paid.is_none() && has_lines {
                self.flag(
                    &edits::COB_PAID_MISSING,
                    &format!("{at}/paid"),
                    "the amount the other payer paid is required when it adjudicated the claim"
                        .into(),
                );
            }
        }
        for (i, line) in claim.service_lines.iter().enumerate() {
            for (k, adj) in line.prior_adjudications.iter().enumerate() {
                let at = format!("/serviceLines/{i}/priorAdjudications/{k}");
                if !claim
                    .other_coverage
                    .iter()
                    .any(|o| o.payer.id == adj.payer_id)
                {
                    self.flag(
                        &edits::COB_PAYER_UNKNOWN,
                        &format!("{at}/payerId"),
                        format!(
                            "payer {} is not one of the claim's other coverages",
                            adj.payer_id
                        ),
                    );
                }
                self.adjustment_groups(&at, &adj.adjustments);
                let adjusted: Decimal = adj.adjustments.iter().map(|a| a.amount).sum();
                if adj.paid + adjusted != line.charge {
                    self.flag(
                        &edits::COB_LINE_BALANCE,
                        &format!("{at}/paid"),
                        format!(
                            "paid {} plus adjustments {adjusted} is not the line charge {}",
                            adj.paid, line.charge
                        ),
                    );
                }
            }
            if let Some(drug) = &line.drug {
                let ndc: String = drug.ndc.chars().filter(|c| *c != '-').collect();
                if !(ndc.len() == 11 && ndc.bytes().all(|b| b.is_ascii_digit())) {
                    self.flag(
                        &edits::NDC_SHAPE,
                        &format!("/serviceLines/{i}/drug/ndc"),
                        format!("{:?} is not an 11-digit NDC (5-4-2)", drug.ndc),
                    );
                }
                if !["F2", "GR", "ME", "ML", "UN"].contains(&drug.unit.as_str()) {
                    self.flag(
                        &edits::NDC_UNIT,
                        &format!("/serviceLines/{i}/drug/unit"),
                        format!("{:?} is not a drug unit (F2, GR, ME, ML, UN)", drug.unit),
                    );
                }
                if drug.quantity <= Decimal::ZERO {
                    self.flag(
                        &edits::NDC_QUANTITY,
                        &format!("/serviceLines/{i}/drug/quantity"),
                        "the drug quantity must be more than zero".into(),
                    );
                }
            }
        }
    }

    fn address(&mut self, at: &str, address: &Address) {
        if address.lines.is_empty() || address.lines.len() > 2 {
            self.flag(
                &edits::ADDRESS_LINES,
                &format!("{at}/lines"),
                "an address has one or two street lines".into(),
            );
        }
        let state = &address.state;
        if !is_state_code(state) {
            self.flag(
                &edits::STATE,
                &format!("{at}/state"),
                format!(
                    "{state:?} is not a US state or Canadian province code (USPS, Canada Post)"
                ),
            );
        }
        let zip: String = address.postal_code.chars().filter(|c| *c != '-').collect();
        if !((zip.len() == 5 || zip.len() == 9) && zip.bytes().all(|b| b.is_ascii_digit())) {
            self.flag(
                &edits::POSTAL_CODE,
                &format!("{at}/postalCode"),
                format!(
                    "{:?} is not a five- or nine-digit ZIP code",
                    address.postal_code
                ),
            );
        }
    }

    fn line(
        &mut self,
        i: usize,
        line: &ServiceLine,
        diagnoses: usize,
        birth: Option<NaiveDate>,
        today: NaiveDate,
    ) {
        let at = format!("/serviceLines/{i}");
        if !procedure_shape(&line.procedure_code) {
            self.flag(&edits::PROCEDURE_SHAPE, &format!("{at}/procedureCode"),
                format!("{:?} is not shaped like a CPT code (five digits, or four digits and F, T or U) or a HCPCS Level II code (a letter A-V and four digits)", line.procedure_code));
        }
        self.line_amounts(
            &at,
            ClaimKind::Professional,
            line.modifiers.len(),
            line.charge,
            line.units,
        );
        for (m, modifier) in line.modifiers.iter().enumerate() {
            if !(modifier.len() == 2
                && modifier
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
            {
                self.flag(
                    &edits::MODIFIER_SHAPE,
                    &format!("{at}/modifiers/{m}"),
                    format!("{modifier:?} is not a modifier (two upper-case letters or digits)"),
                );
            }
            if line.modifiers.iter().take(m).any(|x| x == modifier) {
                self.flag(
                    &edits::MODIFIER_REPEATED,
                    &format!("{at}/modifiers/{m}"),
                    format!("modifier {modifier} is repeated on the line"),
                );
            }
        }
        if line.diagnosis_pointers.is_empty() || line.diagnosis_pointers.len() > 4 {
            self.flag(
                &edits::POINTER_COUNT,
                &format!("{at}/diagnosisPointers"),
                format!(
                    "a line points at 1 to 4 diagnoses; this one at {}",
                    line.diagnosis_pointers.len()
                ),
            );
        }
        for (p, &pointer) in line.diagnosis_pointers.iter().enumerate() {
            if pointer == 0 || usize::from(pointer) > diagnoses {
                self.flag(
                    &edits::POINTER_RANGE,
                    &format!("{at}/diagnosisPointers/{p}"),
                    format!(
                        "diagnosis pointer {pointer} names no diagnosis (the claim has {diagnoses})"
                    ),
                );
            }
            if line
                .diagnosis_pointers
                .iter()
                .take(p)
                .any(|x| *x == pointer)
            {
                self.flag(
                    &edits::POINTER_REPEATED,
                    &format!("{at}/diagnosisPointers/{p}"),
                    format!("diagnosis pointer {pointer} is repeated"),
                );
            }
        }
        if line.service_date > today {
            self.flag(
                &edits::SERVICE_IN_FUTURE,
                &format!("{at}/serviceDate"),
                format!("the date of service {} is in the future", line.service_date),
            );
        }
        if let Some(birth) = birth
            && line.service_date < birth
        {
            self.flag(
                &edits::SERVICE_BEFORE_BIRTH,
                &format!("{at}/serviceDate"),
                format!(
                    "the date of service {} is before the patient's birth ({birth})",
                    line.service_date
                ),
            );
        }
        if let Some(place) = &line.place_of_service
            && !place_of_service(place)
        {
            self.flag(
                &edits::PLACE_OF_SERVICE,
                &format!("{at}/placeOfService"),
                format!("{place:?} is not a CMS place of service code"),
            );
        }
    }
}

fn normal(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '.')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The date from which HIPAA requires ICD-10-CM for diagnoses (dates of service on or after).
pub const ICD10_COMPLIANCE: NaiveDate = match NaiveDate::from_ymd_opt(2015, 10, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// ICD-9-CM diagnosis codes: three to five digits (`0340`, `53081`), `V` and two to four digits
/// (`V7389`), or `E` and three or four digits (`E8888`); a dot may follow the category (the
/// first three characters, four for `E` codes).
pub fn icd9cm_shape(code: &str) -> bool {
    let (category, rest) = match code.as_bytes().first() {
        Some(b'E') => (4, 1),
        Some(b'V') => (3, 2),
        _ => (3, 2),
    };
    let digits_from = usize::from(matches!(code.as_bytes().first(), Some(b'E' | b'V')));
    let bytes: Vec<u8> = match code.split_once('.') {
        Some((head, tail)) if head.len() == category && !tail.is_empty() => {
            head.bytes().chain(tail.bytes()).collect()
        }
        Some(_) => return false,
        None => code.bytes().collect(),
    };
    (category..=category + rest).contains(&bytes.len())
        && bytes
            .get(digits_from..)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
}

/// ICD-10-CM: a letter, a digit, then one to five letters or digits (3 to 7 characters), with an
/// optional dot after the third.
pub fn icd10cm_shape(code: &str) -> bool {
    let bytes = code.as_bytes();
    let dotted = bytes.get(3) == Some(&b'.');
    let body: Vec<u8> = bytes
        .iter()
        .copied()
        .enumerate()
        .filter(|&(i, _)| !(dotted && i == 3))
        .map(|(_, b)| b)
        .collect();
    (3..=7).contains(&body.len())
        && matches!(body.as_slice(), [letter, digit, rest @ ..]
            if letter.is_ascii_uppercase()
                && digit.is_ascii_digit()
                && rest.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
        && !(dotted && body.len() == 3)
}

/// CPT (five digits; four and F, T or U for Category II, III and PLA codes) or HCPCS Level II
/// (a letter A to V and four digits).
pub fn procedure_shape(code: &str) -> bool {
    let four_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match code.as_bytes() {
        [first, rest @ ..] if rest.len() == 4 && (b'A'..=b'V').contains(first) => four_digits(rest),
        [digits @ .., last] if digits.len() == 4 => {
            four_digits(digits) && (last.is_ascii_digit() || matches!(last, b'F' | b'T' | b'U'))
        }
        _ => false,
    }
}

/// NUCC taxonomy: ten upper-case letters and digits, the last a letter (X for most codes; the
/// TR3's own example, 203BF0100Y, ends in Y).
fn taxonomy_shape(code: &str) -> bool {
    code.len() == 10
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && code.bytes().last().is_some_and(|b| b.is_ascii_uppercase())
}

/// A code of the CMS place of service code set (`codes/place-of-service.tsv`); any two digits
/// should the embedded table be defective, so a build error never rejects claims.
fn place_of_service(code: &str) -> bool {
    match crate::codes::place_of_service() {
        Ok(table) => table.describe(code).is_some(),
        Err(_) => two_digits(code),
    }
}

fn two_digits(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit())
}

fn po_box(line: &str) -> bool {
    let compact: String = line
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    compact.starts_with("POBOX") || compact.starts_with("POSTOFFICEBOX")
}

#[cfg(test)]
mod tests {
    use crate::claims::claim::ClaimKind;

    use super::*;

    #[test]
    fn code_shapes() {
        for good in ["E11.9", "E119", "S72.001A", "Z0000", "U071", "M5416"] {
            assert!(icd10cm_shape(good), "{good}");
        }
        for bad in ["E1", "11.9", "E11.", "e11.9", "E11.90000", "E1!9"] {
            assert!(!icd10cm_shape(bad), "{bad}");
        }
        for good in [
            "0340", "034.0", "53081", "530.81", "250", "V7389", "V73.89", "V70", "E8888", "E888.8",
            "E849",
        ] {
            assert!(icd9cm_shape(good), "{good}");
        }
        for bad in [
            "03", "530811", "53.081", "530.", "V7", "V738901", "E88", "E88888", "E88.88",
            "S72001A", "V7X",
        ] {
            assert!(!icd9cm_shape(bad), "{bad}");
        }
        for good in ["99213", "0001F", "0042T", "0001U", "J1100", "G0008"] {
            assert!(procedure_shape(good), "{good}");
        }
        for bad in ["9921", "992134", "W1234", "J110A", "0001X"] {
            assert!(!procedure_shape(bad), "{bad}");
        }
        assert!(po_box("P.O. Box 12"));
        assert!(!po_box("12 Post Road"));
    }

    /// One claim (a fixture, changed at `pointer` to `value`), what the scrubber finds on it.
    fn findings(
        fixture: &str,
        pointer: &str,
        value: serde_json::Value,
        profile: &Profile,
    ) -> Vec<String> {
        let path = hms_test_support::fixtures().join("claims").join(fixture);
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match json.pointer_mut(parent) {
            Some(serde_json::Value::Object(map)) => {
                map.insert(key.to_string(), value);
            }
            Some(serde_json::Value::Array(items)) => items[key.parse::<usize>().unwrap()] = value,
            _ => panic!("{fixture} has no {parent}"),
        }
        let kind = ClaimKind::of(&json);
        let claim = Claim::from_value(json, kind).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        scrub(&claim, today, profile)
            .issue
            .into_iter()
            .filter_map(|i| i.diagnostics)
            .filter(|d| d != "all-ok")
            .collect()
    }

    #[test]
    fn another_payers_adjustment_needs_a_group_code() {
        // Found by the claim_request fuzz target: a group of "`O" passed the scrubber and made
        // an 837 whose CAS our validator could not place.
        let found = findings(
            "professional-cob-secondary.json",
            "/serviceLines/0/priorAdjudications/0/adjustments/0/group",
            serde_json::json!("`O"),
            &Profile::default(),
        );
        assert_eq!(found, ["cob-adjustment-group"]);
    }

    #[test]
    fn the_registry_names_every_edit_once_with_what_it_checks() {
        let mut ids: Vec<&str> = edits::EDITS.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), edits::EDITS.len(), "an id is listed twice");
        for edit in edits::EDITS {
            assert!(
                edit.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                edit.id
            );
            assert!(
                edit.description.ends_with('.') && edit.description.len() > 20,
                "{}",
                edit.id
            );
            assert!(
                !edit.applies_to.is_empty() && edit.pointer.starts_with(['/', '.']),
                "{}",
                edit.id
            );
            assert_eq!(edits::edit(edit.id), Some(edit));
        }
        assert!(Profile::switching_off(&["po-box-billing"]).is_err());
    }

    /// One change per edit: (edit, fixture, where, the value that trips it).
    fn cases() -> Vec<(&'static str, &'static str, &'static str, serde_json::Value)> {
        use serde_json::json;
        const P: &str = "professional-subscriber.json";
        const I: &str = "institutional-inpatient.json";
        vec![
            (
                "text-characters",
                P,
                "/subscriber/name/last",
                json!("SMI\u{7}TH"),
            ),
            (
                "text-characters",
                I,
                "/billingProvider/address/city",
                json!("MIAMI\u{0}"),
            ),
            (
                "text-length",
                P,
                "/subscriber/name/last",
                json!("A".repeat(61)),
            ),
            (
                "text-length",
                I,
                "/subscriber/name/first",
                json!("A".repeat(36)),
            ),
            (
                "date-range",
                P,
                "/subscriber/birthDate",
                json!("0000-01-01"),
            ),
            (
                "date-range",
                I,
                "/subscriber/birthDate",
                json!("-262143-01-01"),
            ),
            ("diagnosis-required", P, "/claim/diagnoses", json!([])),
            ("icd10-shape", P, "/claim/diagnoses/0", json!("J2")),
            ("place-of-service", P, "/claim/placeOfService", json!("00")),
            ("frequency", P, "/claim/frequency", json!("3")),
            ("assignment", P, "/claim/assignment", json!("Z")),
            (
                "release-of-information",
                P,
                "/claim/releaseOfInformation",
                json!("N"),
            ),
            ("line-count", P, "/serviceLines", json!([])),
            (
                "onset-after-service",
                P,
                "/claim/onsetDate",
                json!("2026-11-20"),
            ),
            ("facility-type", I, "/claim/facilityType", json!("01")),
            ("patient-status", I, "/claim/patientStatus", json!("99")),
            (
                "statement-in-future",
                I,
                "/claim/statementTo",
                json!("2027-01-01"),
            ),
            ("admission-type", I, "/claim/admission/typeCode", json!("7")),
            ("admission-hour", I, "/claim/admission/hour", json!("2460")),
            ("discharge-hour", I, "/claim/dischargeHour", json!("10")),
            (
                "icd10pcs-shape",
                I,
                "/claim/principalProcedure/code",
                json!("02703IZ"),
            ),
            (
                "procedure-date",
                I,
                "/claim/principalProcedure/date",
                json!("2026-10-20"),
            ),
            (
                "claim-filing-indicator",
                P,
                "/subscriber/claimFilingIndicator",
                json!("XX"),
            ),
            ("charge-total", P, "/claim/totalCharge", json!("141.00")),
            (
                "revenue-code",
                I,
                "/serviceLines/0/revenueCode",
                json!("120"),
            ),
            ("line-unit", I, "/serviceLines/0/unit", json!("MJ")),
            (
                "procedure-shape",
                P,
                "/serviceLines/0/procedureCode",
                json!("9921"),
            ),
            (
                "modifier-shape",
                P,
                "/serviceLines/0/modifiers/0",
                json!("2"),
            ),
            (
                "pointer-range",
                P,
                "/serviceLines/0/diagnosisPointers/0",
                json!(9),
            ),
            (
                "service-in-future",
                P,
                "/serviceLines/0/serviceDate",
                json!("2026-12-24"),
            ),
            ("billing-npi", P, "/billingProvider/npi", json!(null)),
            (
                "npi-check-digit",
                P,
                "/renderingProvider/npi",
                json!("1234567890"),
            ),
            (
                "taxonomy-shape",
                P,
                "/billingProvider/taxonomy",
                json!("207Q"),
            ),
            ("phone", P, "/submitter/contact/phone", json!("555-1234")),
            (
                "subscriber-demographics",
                P,
                "/subscriber/gender",
                json!(null),
            ),
            (
                "birth-in-future",
                P,
                "/subscriber/birthDate",
                json!("2027-05-01"),
            ),
            ("state", P, "/billingProvider/address/state", json!("FLA")),
            (
                "billing-zip-9",
                I,
                "/billingProvider/address/postalCode",
                json!("33111"),
            ),
            (
                "postal-code",
                P,
                "/billingProvider/address/postalCode",
                json!("3311"),
            ),
            (
                "billing-address-po-box",
                P,
                "/billingProvider/address/lines/0",
                json!("PO BOX 12"),
            ),
            ("attending-provider", I, "/attendingProvider", json!(null)),
        ]
    }

    /// Each edit alone: a clean claim changed in one field finds that edit, and a profile that
    /// switches it off finds nothing more than the clean claim did.
    #[test]
    fn each_edit_fires_on_its_own_and_a_profile_switches_it_off() {
        const P: &str = "professional-subscriber.json";
        const I: &str = "institutional-inpatient.json";
        let cases = cases();
        let clean = |fixture: &str| {
            let path = hms_test_support::fixtures().join("claims").join(fixture);
            let json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            let claim = Claim::from_value(json.clone(), ClaimKind::of(&json)).unwrap();
            let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
            scrub(&claim, today, &Profile::default())
                .issue
                .into_iter()
                .filter_map(|i| i.diagnostics)
                .filter(|d| d != "all-ok")
                .count()
        };
        assert_eq!(clean(P), 0);
        assert_eq!(clean(I), 0);
        for (id, fixture, pointer, value) in &cases {
            let found = findings(fixture, pointer, value.clone(), &Profile::default());
            assert!(
                found.iter().any(|f| f == id),
                "{id}: {pointer} = {value} found {found:?}"
            );
            let off = Profile::switching_off(&[id]).unwrap();
            let left = findings(fixture, pointer, value.clone(), &off);
            assert!(
                !left.iter().any(|f| f == id),
                "{id} was not switched off: {left:?}"
            );
            assert_eq!(
                left.len() + found.iter().filter(|f| f == id).count(),
                found.len()
            );
        }
    }
}
