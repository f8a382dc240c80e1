//! The FHIR Claim → 837 mapping, element by element, held to the code: each row names a FHIR
//! element, the 837 place it goes to, and a change to the element in a fixture that must
//! change exactly that place in the 837 written from it. `FHIR_CLAIM_MAPPING.md` is rendered
//! from these rows, and a test keeps it so.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use chrono::NaiveDate;
use hms_domain::claims::fhir::{read, resources::Resources};
use hms_domain::claims::{ClaimKind, write_837};
use hms_domain::partner::{Connections, Envelope, TradingPartner};
use serde_json::Value;

/// Which fixture a row changes: the professional transaction Bundle (entries: 0 Patient,
/// 1 Organization, 2 Practitioner, 3 PractitionerRole, 4 Coverage, 6 and 7 Conditions,
/// 8 Claim), or the institutional Claim with its parties contained.
#[derive(Clone, Copy, PartialEq)]
enum Fixture {
    Professional,
    Institutional,
}

struct Row {
    fixture: Fixture,
    /// The FHIR element, as the document shows it.
    fhir: &'static str,
    /// Where it goes in the 837.
    x12: &'static str,
    /// How the reader chooses, when there is a choice.
    note: &'static str,
    /// The element in the fixture (a JSON pointer) and a new value for it (JSON).
    pointer: &'static str,
    changed: &'static str,
    /// What the 837 holds before and after the change.
    before: &'static str,
    after: &'static str,
}

const P: Fixture = Fixture::Professional;
const I: Fixture = Fixture::Institutional;

const ROWS: &[Row] = &[
    Row {
        fixture: P,
        fhir: "Claim.identifier[0].value, else Claim.id",
        x12: "2300 CLM01",
        note: "the first identifier with a value; a generator's Claim often has only its id",
        pointer: "/entry/8/resource/id",
        changed: "\"CLAIM-77\"",
        before: "CLM*2c3f4a5b-ee3b-4e8f-9ad2-9b6d7f0e1c09*",
        after: "CLM*CLAIM-77*",
    },
    Row {
        fixture: P,
        fhir: "Claim.total",
        x12: "2300 CLM02",
        note: "USD only; absent: the lines' sum (noted); float noise rounded to the cent",
        pointer: "/entry/8/resource/total/value",
        changed: "150.0",
        before: "*140***11:B:1",
        after: "*150***11:B:1",
    },
    Row {
        fixture: P,
        fhir: "Claim.item[0].locationCodeableConcept",
        x12: "2300 CLM05-1, 2400 SV105 when a line differs",
        note: "CMS place of service system, or two digits without a system",
        pointer: "/entry/8/resource/item/0/locationCodeableConcept/coding/0/code",
        changed: "\"22\"",
        before: "*11:B:1*",
        after: "*22:B:1*",
    },
    Row {
        fixture: P,
        fhir: "Claim.status, Claim.related (relationship prior, reference)",
        x12: "2300 CLM05-3, REF*F8",
        note: "active 1; active with a prior claim 7 (replacement); cancelled with one 8 (void)",
        pointer: "/entry/8/resource/related",
        changed: "[{\"relationship\": {\"coding\": [{\"code\": \"prior\"}]}, \"reference\": {\"value\": \"PAYER123\"}}]",
        before: "*11:B:1*",
        after: "*11:B:7*",
    },
    Row {
        fixture: P,
        fhir: "Claim.accident.type",
        x12: "2300 CLM11-1 (CLM11-4 the state)",
        note: "v3 MVA → AA (its state required), WPA → EM, others → OA",
        pointer: "/entry/8/resource/accident/type/coding/0/code",
        changed: "\"WPA\"",
        before: "*Y*A*Y*Y**OA~",
        after: "*Y*A*Y*Y**EM~",
    },
    Row {
        fixture: P,
        fhir: "Claim.accident.date",
        x12: "2300 DTP*439",
        note: "",
        pointer: "/entry/8/resource/accident/date",
        changed: "\"2026-10-29\"",
        before: "DTP*439*D8*20261030",
        after: "DTP*439*D8*20261029",
    },
    Row {
        fixture: P,
        fhir: "Claim.supportingInfo (category onset).timingDate",
        x12: "2300 DTP*431",
        note: "",
        pointer: "/entry/8/resource/supportingInfo/0/timingDate",
        changed: "\"2026-10-28\"",
        before: "DTP*431*D8*20261030",
        after: "DTP*431*D8*20261028",
    },
    Row {
        fixture: P,
        fhir: "Claim.supportingInfo (category hospitalized).timingPeriod",
        x12: "2300 DTP*435, DTP*096",
        note: "the stay the services were given in",
        pointer: "/entry/8/resource/supportingInfo",
        changed: "[{\"category\": {\"coding\": [{\"code\": \"onset\"}]}, \"timingDate\": \"2026-10-30\"}, {\"category\": {\"coding\": [{\"code\": \"hospitalized\"}]}, \"timingPeriod\": {\"start\": \"2026-10-31\", \"end\": \"2026-11-01\"}}]",
        before: "DTP*439*D8*20261030~\nREF*G1",
        after: "DTP*435*D8*20261031~\nDTP*096*D8*20261101~",
    },
    Row {
        fixture: P,
        fhir: "Claim.supportingInfo (category patientpaid).valueQuantity",
        x12: "2300 AMT*F5",
        note: "in USD (R4's supportingInfo has no Money)",
        pointer: "/entry/8/resource/supportingInfo",
        changed: "[{\"category\": {\"coding\": [{\"code\": \"onset\"}]}, \"timingDate\": \"2026-10-30\"}, {\"category\": {\"coding\": [{\"code\": \"patientpaid\"}]}, \"valueQuantity\": {\"value\": 15, \"unit\": \"USD\"}}]",
        before: "DTP*439*D8*20261030~\nREF*G1",
        after: "DTP*439*D8*20261030~\nAMT*F5*15~\nREF*G1",
    },
    Row {
        fixture: P,
        fhir: "Claim.careTeam (role supervisor)",
        x12: "2310D NM1*DQ",
        note: "referring: Claim.referral → ServiceRequest.requester, 2310A NM1*DN (its identifier REF*9F)",
        pointer: "/entry/8/resource/careTeam/0/role",
        changed: "{\"coding\": [{\"code\": \"supervisor\"}]}",
        before: "NM1*82*1*KILDARE",
        after: "NM1*DQ*1*KILDARE",
    },
    Row {
        fixture: P,
        fhir: "Claim.insurance(focal).preAuthRef[0]",
        x12: "2300 REF*G1",
        note: "",
        pointer: "/entry/8/resource/insurance/0/preAuthRef/0",
        changed: "\"AUTH99\"",
        before: "REF*G1*AUTH88812",
        after: "REF*G1*AUTH99",
    },
    Row {
        fixture: P,
        fhir: "Claim.diagnosis.diagnosisReference → Condition.code",
        x12: "2300 HI (ABK principal, ABF others)",
        note: "diagnosisCodeableConcept or the Condition's code; ICD-10-CM (or ICD-10) coding chosen by system, ICD-9-CM sets BK/BF",
        pointer: "/entry/6/resource/code/coding/1/code",
        changed: "\"J03.00\"",
        before: "HI*ABK:J020*",
        after: "HI*ABK:J0300*",
    },
    Row {
        fixture: P,
        fhir: "Claim.provider → Organization.name",
        x12: "2010AA NM103",
        note: "Organization, Practitioner, or PractitionerRole (its practitioner at its organization)",
        pointer: "/entry/1/resource/name",
        changed: "\"HARBOR MEDICINE\"",
        before: "NM1*85*2*HARBOR FAMILY MEDICINE*",
        after: "NM1*85*2*HARBOR MEDICINE*",
    },
    Row {
        fixture: P,
        fhir: "Claim.provider → identifier (NPI)",
        x12: "2010AA NM109",
        note: "system us-npi or its OID, or type NPI",
        pointer: "/entry/1/resource/identifier/1/value",
        changed: "\"1003000126\"",
        before: "XX*1912301953",
        after: "XX*1003000126",
    },
    Row {
        fixture: P,
        fhir: "Claim.provider → identifier (tax id)",
        x12: "2010AA REF*EI (REF*SY for an SSN)",
        note: "the IRS TIN OID or type TAX/EN is an EIN; us-ssn or type SS an SSN",
        pointer: "/entry/1/resource/identifier/2/value",
        changed: "\"123456789\"",
        before: "REF*EI*587654321",
        after: "REF*EI*123456789",
    },
    Row {
        fixture: P,
        fhir: "Claim.provider → address",
        x12: "2010AA N3, N4",
        note: "the first address not of use old; N403 must have 9 digits (scrubber edit billing-zip-9)",
        pointer: "/entry/1/resource/address/0/city",
        changed: "\"CAMBRIDGE\"",
        before: "N4*BOSTON*MA*021103021",
        after: "N4*CAMBRIDGE*MA*021103021",
    },
    Row {
        fixture: P,
        fhir: "Claim.patient → Patient.name",
        x12: "2010BA NM1*IL (2010CA NM1*QC for a dependent)",
        note: "the official name, else the first not old",
        pointer: "/entry/0/resource/name/0/family",
        changed: "\"ROBERTSON\"",
        before: "NM1*IL*1*ROBERTS*ALAN*J",
        after: "NM1*IL*1*ROBERTSON*ALAN*J",
    },
    Row {
        fixture: P,
        fhir: "Claim.patient → Patient.birthDate, gender",
        x12: "2010BA DMG02, DMG03",
        note: "",
        pointer: "/entry/0/resource/birthDate",
        changed: "\"1961-08-15\"",
        before: "DMG*D8*19610814*M",
        after: "DMG*D8*19610815*M",
    },
    Row {
        fixture: P,
        fhir: "Coverage.subscriberId, else Coverage.identifier typed MB or SN",
        x12: "2010BA NM109",
        note: "",
        pointer: "/entry/4/resource/identifier/0/value",
        changed: "\"XJ900\"",
        before: "*MI*JS00111223333",
        after: "*MI*XJ900",
    },
    Row {
        fixture: P,
        fhir: "Coverage.class (type group).value",
        x12: "2000B SBR03",
        note: "",
        pointer: "/entry/4/resource/class/0/value",
        changed: "\"G-77\"",
        before: "SBR*P*18*2222-SJ*",
        after: "SBR*P*18*G-77*",
    },
    Row {
        fixture: P,
        fhir: "Coverage.type",
        x12: "2000B SBR09",
        note: "an X12 claim filing code (system or shape); otherwise the payer directory's default, noted",
        pointer: "/entry/4/resource/type",
        changed: "{\"coding\": [{\"system\": \"http://codesystem.x12.org/005010/1032\", \"code\": \"MB\"}]}",
        before: "******CI~",
        after: "******MB~",
    },
    Row {
        fixture: P,
        fhir: "Claim.insurer, else Coverage.payor[0]",
        x12: "2010BB NM1*PR",
        note: "an Organization or a logical reference; the id: typed payerid/NIIP, NAIC, a bare value, or any identifier the payer directory knows",
        pointer: "/entry/4/resource/payor/0/identifier/value",
        changed: "\"842610001\"",
        before: "NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666",
        after: "NM1*PR*2*KEY INSURANCE COMPANY*****PI*842610001",
    },
    Row {
        fixture: P,
        fhir: "Claim.careTeam (by item.careTeamSequence or role) → PractitionerRole",
        x12: "2310B NM1*82",
        note: "roles primary, performing, rendering; else the member every item names",
        pointer: "/entry/2/resource/name/0/family",
        changed: "\"KILDAIRE\"",
        before: "NM1*82*1*KILDARE*BEN",
        after: "NM1*82*1*KILDAIRE*BEN",
    },
    Row {
        fixture: P,
        fhir: "PractitionerRole.specialty (NUCC)",
        x12: "2310B PRV03",
        note: "",
        pointer: "/entry/3/resource/specialty/0/coding/0/code",
        changed: "\"208D00000X\"",
        before: "PRV*PE*PXC*207Q00000X",
        after: "PRV*PE*PXC*208D00000X",
    },
    Row {
        fixture: P,
        fhir: "Claim.item.productOrService",
        x12: "2400 SV101-2",
        note: "CPT or HCPCS by system (URL or OID), after any SNOMED coding",
        pointer: "/entry/8/resource/item/1/productOrService/coding/0/code",
        changed: "\"87081\"",
        before: "SV1*HC:87880:QW*",
        after: "SV1*HC:87081:QW*",
    },
    Row {
        fixture: P,
        fhir: "Claim.item.modifier",
        x12: "2400 SV101-3..6",
        note: "",
        pointer: "/entry/8/resource/item/0/modifier/0/coding/0/code",
        changed: "\"59\"",
        before: "SV1*HC:99213:25*",
        after: "SV1*HC:99213:59*",
    },
    Row {
        fixture: P,
        fhir: "Claim.item.net, else unitPrice × quantity × factor",
        x12: "2400 SV102",
        note: "USD only",
        pointer: "/entry/8/resource/item/1/unitPrice/value",
        changed: "25",
        before: "SV1*HC:87880:QW*40*",
        after: "SV1*HC:87880:QW*50*",
    },
    Row {
        fixture: P,
        fhir: "Claim.item.quantity",
        x12: "2400 SV104",
        note: "1 when absent",
        pointer: "/entry/8/resource/item/1/quantity/value",
        changed: "3",
        before: "*40*UN*2***1~",
        after: "*60*UN*3***1~",
    },
    Row {
        fixture: P,
        fhir: "Claim.item.diagnosisSequence",
        x12: "2400 SV107",
        note: "positions of the diagnoses in sequence order",
        pointer: "/entry/8/resource/item/1/diagnosisSequence/0",
        changed: "2",
        before: "*UN*2***1~",
        after: "*UN*2***2~",
    },
    Row {
        fixture: P,
        fhir: "Claim.item.servicedDate, servicedPeriod",
        x12: "2400 DTP*472",
        note: "a dateTime's date; a period with only an end is that day; neither: the billablePeriod (noted)",
        pointer: "/entry/8/resource/item/1/servicedPeriod/end",
        changed: "\"2026-11-03\"",
        before: "REF*6R*1~\nLX*2~\nSV1*HC:87880:QW*40*UN*2***1~\nDTP*472*D8*20261102",
        after: "DTP*472*D8*20261103",
    },
    Row {
        fixture: P,
        fhir: "Claim.item.detail (NDC).productOrService, quantity",
        x12: "2410 LIN03, CTP04, CTP05-1",
        note: "the first detail coded with an NDC; UCUM mL, mg, g, [iU] or a count",
        pointer: "/entry/8/resource/item/1/detail",
        changed: "[{\"sequence\": 1, \"productOrService\": {\"coding\": [{\"system\": \"http://hl7.org/fhir/sid/ndc\", \"code\": \"00409-4888-20\"}]}, \"quantity\": {\"value\": 2, \"unit\": \"mL\", \"system\": \"http://unitsofmeasure.org\", \"code\": \"mL\"}}]",
        before: "REF*6R*2~\nSE*",
        after: "REF*6R*2~\nLIN**N4*00409488820~\nCTP****2*ML~",
    },
    Row {
        fixture: P,
        fhir: "Claim.item.sequence",
        x12: "2400 REF*6R",
        note: "must not repeat",
        pointer: "/entry/8/resource/item/1/sequence",
        changed: "5",
        before: "REF*6R*2",
        after: "REF*6R*5",
    },
    Row {
        fixture: I,
        fhir: "Claim.supportingInfo (typeofbill).code",
        x12: "2300 CLM05-1, CLM05-3",
        note: "NUBC, with or without its leading 0",
        pointer: "/supportingInfo/0/code/coding/0/code",
        changed: "\"0131\"",
        before: "*11:A:1*",
        after: "*13:A:1*",
    },
    Row {
        fixture: I,
        fhir: "Claim.billablePeriod",
        x12: "2300 DTP*434",
        note: "dates or dateTimes; no end: one day",
        pointer: "/billablePeriod/end",
        changed: "\"2026-10-15\"",
        before: "DTP*434*RD8*20261010-20261014",
        after: "DTP*434*RD8*20261010-20261015",
    },
    Row {
        fixture: I,
        fhir: "Claim.supportingInfo (admissionperiod).timingPeriod.start",
        x12: "2300 DTP*435",
        note: "a dateTime gives the hour",
        pointer: "/supportingInfo/1/timingPeriod/start",
        changed: "\"2026-10-10T09:15:00-05:00\"",
        before: "DTP*435*DT*202610101130",
        after: "DTP*435*DT*202610100915",
    },
    Row {
        fixture: I,
        fhir: "Claim.supportingInfo (discharge-status).code",
        x12: "2300 CL103",
        note: "",
        pointer: "/supportingInfo/4/code/coding/0/code",
        changed: "\"20\"",
        before: "CL1*1*7*01",
        after: "CL1*1*7*20",
    },
    Row {
        fixture: I,
        fhir: "Claim.diagnosis (type principal, admitting, other)",
        x12: "2300 HI ABK, ABJ, ABF",
        note: "",
        pointer: "/diagnosis/0/diagnosisCodeableConcept/coding/0/code",
        changed: "\"I21.3\"",
        before: "HI*ABK:I214",
        after: "HI*ABK:I213",
    },
    Row {
        fixture: I,
        fhir: "Claim.procedure (ICD-10-PCS)",
        x12: "2300 HI BBR (principal), BBQ",
        note: "procedureCodeableConcept or procedureReference → Procedure",
        pointer: "/procedure/0/procedureCodeableConcept/coding/0/code",
        changed: "\"027035Z\"",
        before: "HI*BBR:027034Z:D8:20261011",
        after: "HI*BBR:027035Z:D8:20261011",
    },
    Row {
        fixture: I,
        fhir: "Claim.careTeam (role attending)",
        x12: "2310A NM1*71",
        note: "operating: 2310B NM1*72",
        pointer: "/careTeam/0/role/coding/0/code",
        changed: "\"operating\"",
        before: "NM1*71*1*JONES",
        after: "NM1*72*1*JONES",
    },
    Row {
        fixture: I,
        fhir: "Claim.item.revenue",
        x12: "2400 SV201",
        note: "NUBC; three digits get their leading 0",
        pointer: "/item/0/revenue/coding/0/code",
        changed: "\"0110\"",
        before: "SV2*0120**",
        after: "SV2*0110**",
    },
];

fn fixture(kind: Fixture) -> Value {
    let name = match kind {
        Fixture::Professional => "claim-professional-transaction-bundle.json",
        Fixture::Institutional => "claim-institutional.json",
    };
    let path = format!("{}/tests/fixtures/fhir/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The 837 the reader and writer make of `input`.
fn x12_of(kind: Fixture, input: &Value) -> String {
    let resources = Resources::of(input);
    let (claim, claim_kind) = match kind {
        Fixture::Professional => (&input["entry"][8]["resource"], ClaimKind::Professional),
        Fixture::Institutional => (input, ClaimKind::Institutional),
    };
    let read = read(claim, &resources, claim_kind, &Connections::local())
        .unwrap_or_else(|o| panic!("{}", serde_json::to_string_pretty(&o).unwrap()));
    let when = NaiveDate::from_ymd_opt(2026, 11, 25)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    let x12 = write_837(
        &[read.claim],
        &TradingPartner::test_to("PAYER"),
        &Envelope::new(1, when),
    )
    .unwrap();
    String::from_utf8(x12).unwrap()
}

#[test]
fn each_fhir_element_reaches_its_837_place() {
    for kind in [P, I] {
        let original = fixture(kind);
        let base = x12_of(kind, &original);
        for row in ROWS.iter().filter(|r| r.fixture == kind) {
            assert!(
                base.contains(row.before),
                "{}: {:?} not in\n{base}",
                row.fhir,
                row.before
            );
            assert!(
                !base.contains(row.after),
                "{}: {:?} already in the fixture's 837",
                row.fhir,
                row.after
            );
            let mut changed = original.clone();
            let (parent, field) = row.pointer.rsplit_once('/').unwrap();
            let new: Value = serde_json::from_str(row.changed).unwrap();
            match changed.pointer_mut(parent) {
                Some(Value::Object(fields)) => {
                    fields.insert(field.to_string(), new);
                }
                Some(Value::Array(items)) => items[field.parse::<usize>().unwrap()] = new,
                _ => panic!("{}: no {parent} in the fixture", row.fhir),
            }
            let after = x12_of(kind, &changed);
            assert!(
                after.contains(row.after),
                "{}: {:?} not in\n{after}",
                row.fhir,
                row.after
            );
            assert!(
                !after.contains(row.before) || row.after.contains(row.before),
                "{}: {:?} still in\n{after}",
                row.fhir,
                row.before
            );
        }
    }
}

/// The document, rendered from the rows.
fn document() -> String {
    let mut out = String::from(
        "# FHIR Claim → 837\n\n\
         Where each element of a FHIR R4 `Claim` (and the resources it refers to) goes in the 837P\n\
         (005010X222A1) and 837I (005010X223A2). Rendered from the rows of\n\
         `tests/fhir_mapping.rs`, each of which changes the element in a fixture and checks that\n\
         exactly that place of the 837 changes; a test keeps this file equal to them.\n\n\
         References resolve in every FHIR form (contained `#id`, Bundle `fullUrl` such as\n\
         `urn:uuid:`, `Type/id`, conditional `Type?identifier=`, logical `identifier`); codings\n\
         and identifiers are chosen by system or type, never by position; dates may be dateTimes.\n\
         A Claim whose `use` is not `claim`, whose status is not `active` (or `cancelled` with\n\
         the claim it voids), whose money is not USD, or whose codes are of another system is\n\
         refused with every problem in one OperationOutcome.\n",
    );
    for (kind, title) in [(P, "837P"), (I, "837I")] {
        out.push_str(&format!(
            "\n## {title}\n\n| FHIR | 837 | how |\n|---|---|---|\n"
        ));
        for row in ROWS.iter().filter(|r| r.fixture == kind) {
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                row.fhir, row.x12, row.note
            ));
        }
    }
    out
}

#[test]
fn the_mapping_document_is_the_rows() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/FHIR_CLAIM_MAPPING.md");
    let rendered = document();
    if std::env::var_os("HMS_WRITE_MAPPING").is_some() {
        std::fs::write(path, &rendered).unwrap();
    }
    let written = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        written == rendered,
        "FHIR_CLAIM_MAPPING.md is not the rows: run HMS_WRITE_MAPPING=1 cargo test -p hms-domain --test fhir_mapping"
    );
}
