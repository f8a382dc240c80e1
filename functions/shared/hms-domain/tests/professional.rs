//! Professional claims end to end inside the core: our JSON → scrubber → 837P, and the 837P is
//! clean by the engine's own validator (CI also runs pyx12 over it: `infra/check-claims.sh`).
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;

use chrono::NaiveDate;
use common::{claim_fixture as fixture, today};
use hms_domain::claims::{Claim, write_837};
use hms_domain::outcome::IssueSeverity;
use hms_domain::partner::{ControlNumbers, Envelope, TradingPartner};
use hms_domain::request::parse_json;
use hms_x12::spec::Catalog;
use hms_x12::validate::validate_bytes;

/// The names of the single professional claim fixtures (`professional-*.json`), sorted.
fn professional_fixtures() -> Vec<String> {
    let dir = format!("{}/tests/fixtures/claims", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("professional-"))
        .collect();
    names.sort();
    names
}

fn partner() -> TradingPartner {
    TradingPartner::test_to("KEYINS")
}

fn envelope() -> Envelope {
    Envelope {
        control: ControlNumbers {
            interchange: 42,
            group: 7,
            transaction: 1,
        },
        created: today().and_hms_opt(9, 30, 0).unwrap(),
    }
}

#[test]
fn fixture_claims_scrub_clean_and_write_valid_837p() {
    let catalog = Catalog::embedded().unwrap();
    let names = professional_fixtures();
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        let claim = parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture(name)).unwrap();
        let outcome = Claim::from(claim.clone()).scrub(today());
        assert!(!outcome.has_errors(), "{name}: {outcome:?}");
        let x12 = write_837(&[Claim::from(claim.clone())], &partner(), &envelope()).unwrap();
        let report = validate_bytes(&x12, catalog);
        let errors: Vec<_> = report.errors().map(|f| f.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{name}: {errors:#?}\n{}",
            String::from_utf8_lossy(&x12)
        );
        let text = String::from_utf8(x12).unwrap();
        let clm = format!("CLM*{}*", claim.claim.patient_control_number);
        assert!(text.contains(&clm), "{name}");
        assert!(text.contains("ST*837*0001*005010X222A1"));
    }
}

#[test]
fn dependent_claim_has_a_patient_loop_and_subscriber_is_not_the_patient() {
    let claim = parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture(
        "professional-dependent.json",
    ))
    .unwrap();
    let text = String::from_utf8(
        write_837(&[Claim::from(claim.clone())], &partner(), &envelope()).unwrap(),
    )
    .unwrap();
    assert!(text.contains("HL*2*1*22*1~"));
    assert!(text.contains("SBR*P**2222-SJ******CI~"));
    assert!(text.contains("HL*3*2*23*0~\nPAT*19~\nNM1*QC*1*SMITH*TED~"));
    assert!(text.contains("SV1*HC:J1100*10*UN*2***1~"));
    assert!(text.contains("HI*ABK:J020*ABF:Z23~"));
}

#[test]
fn secondary_claim_carries_the_primary_payers_adjudication() {
    let claim = parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture(
        "professional-cob-secondary.json",
    ))
    .unwrap();
    let text = String::from_utf8(
        write_837(&[Claim::from(claim.clone())], &partner(), &envelope()).unwrap(),
    )
    .unwrap();
    assert!(text.contains("SBR*S*18*2222-SJ******CI~"));
    assert!(text.contains("SBR*P*18*2222-SJ******CI~\nAMT*D*95~\nOI***Y***Y~"));
    assert!(text.contains(
        "SVD*999996666*70*HC:99213:25**1~\nCAS*CO*45*20~\nCAS*PR*2*10~\nDTP*573*D8*20261115~"
    ));
    // Unbalanced, or naming a payer that is not among the other coverages: both caught.
    let mut bad = claim.clone();
    bad.service_lines[0].prior_adjudications[0].paid = "71.00".parse().unwrap();
    bad.service_lines[1].prior_adjudications[0].payer_id =
        hms_domain::ids::PayerId::parse("NOBODY").unwrap();
    let outcome = Claim::from(bad.clone()).scrub(today());
    let ids: Vec<&str> = outcome
        .issue
        .iter()
        .filter_map(|i| i.diagnostics.as_deref())
        .collect();
    assert!(ids.contains(&"cob-line-balance"), "{ids:?}");
    assert!(ids.contains(&"cob-payer-unknown"), "{ids:?}");
    assert!(ids.contains(&"cob-paid-total"), "{ids:?}");
}

#[test]
fn drug_line_carries_its_ndc() {
    let claim =
        parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture("professional-drug-ndc.json"))
            .unwrap();
    let text = String::from_utf8(
        write_837(&[Claim::from(claim.clone())], &partner(), &envelope()).unwrap(),
    )
    .unwrap();
    assert!(text.contains("REF*6R*L2~\nLIN**N4*00026063512~\nCTP****10*ML~"));
    let mut bad = claim.clone();
    if let Some(drug) = bad.service_lines[1].drug.as_mut() {
        drug.ndc = "0002606351".into();
        drug.unit = "XX".into();
    }
    let ids: Vec<String> = Claim::from(bad.clone())
        .scrub(today())
        .issue
        .into_iter()
        .filter_map(|i| i.diagnostics)
        .collect();
    assert_eq!(ids, ["ndc-shape", "ndc-unit"]);
}

#[test]
fn ambulance_claim_carries_transport_and_locations() {
    let claim = parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture(
        "professional-ambulance.json",
    ))
    .unwrap();
    let text = String::from_utf8(
        write_837(&[Claim::from(claim.clone())], &partner(), &envelope()).unwrap(),
    )
    .unwrap();
    assert!(text.contains("DTP*439*D8*20261102~\nCR1*LB*275**A*DH*21****PATIENT IMMOBILIZED~\nCRC*07*Y*04*06*09~\nCRC*07*N*05*07*08~\nHI*ABK:S72001A*ABF:V4352XA~"));
    assert!(text.contains(
        "NM1*PW*2~\nN3*1129 REINDEER ROAD~\nN4*CARR*CO*80612~\nNM1*45*2*CHEYENNE REGIONAL~"
    ));
    assert!(text.contains("DTP*472*D8*20261102~\nQTY*PT*1~\nREF*6R*1001~"));
    // An ambulance line without the transport information is caught.
    let mut bad = claim.clone();
    bad.ambulance = None;
    let ids: Vec<String> = Claim::from(bad.clone())
        .scrub(today())
        .issue
        .into_iter()
        .filter_map(|i| i.diagnostics)
        .collect();
    assert_eq!(ids, ["ambulance-missing"]);
}

#[test]
fn scrubber_points_at_each_problem() {
    let mut claim = parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture(
        "professional-subscriber.json",
    ))
    .unwrap();
    claim.claim.total_charge = "150.00".parse().unwrap();
    claim.claim.diagnoses[1] = "50.9".into();
    claim.service_lines[0].diagnosis_pointers = vec![1, 3];
    claim.service_lines[1].procedure_code = "8788".into();
    claim.service_lines[1].service_date = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    claim.subscriber.claim_filing_indicator = "XX".into();
    // Two digits, but not a CMS place of service (28-30 are unassigned).
    claim.service_lines[0].place_of_service = Some("29".into());
    claim.rendering_provider = Some(claim.billing_provider.clone());
    if let Some(rendering) = claim.rendering_provider.as_mut() {
        rendering.npi = Some(hms_domain::ids::Npi::parse("1912301954").unwrap());
    }
    let outcome = Claim::from(claim.clone()).scrub(today());
    let found: Vec<(String, String)> = outcome
        .issue
        .iter()
        .filter(|i| i.severity == IssueSeverity::Error)
        .map(|i| (i.diagnostics.clone().unwrap(), i.expression[0].clone()))
        .collect();
    let expect = [
        ("charge-total", "/claim/totalCharge"),
        ("icd10-shape", "/claim/diagnoses/1"),
        ("pointer-range", "/serviceLines/0/diagnosisPointers/1"),
        ("procedure-shape", "/serviceLines/1/procedureCode"),
        ("service-in-future", "/serviceLines/1/serviceDate"),
        ("claim-filing-indicator", "/subscriber/claimFilingIndicator"),
        ("npi-check-digit", "/renderingProvider/npi"),
        ("place-of-service", "/serviceLines/0/placeOfService"),
    ];
    for (id, at) in expect {
        assert!(
            found.iter().any(|(i, a)| i == id && a == at),
            "{id} at {at} not in {found:?}"
        );
    }
    assert_eq!(found.len(), expect.len(), "{found:?}");
    assert!(outcome.has_errors());
}

#[test]
fn unparsable_claims_say_where() {
    let text = String::from_utf8(fixture("professional-subscriber.json")).unwrap();
    let short_npi = text.replace("1912301953", "191230195");
    let outcome =
        parse_json::<hms_domain::claims::ProfessionalClaim>(short_npi.as_bytes()).unwrap_err();
    assert_eq!(outcome.issue[0].expression, ["/billingProvider/npi"]);
    assert!(outcome.issue[0].details.text.contains("10 digits"));
    // A wrong check digit is not a parse error: the claim reads, and the scrubber says so.
    let bad_npi = text.replace("1912301953", "1912301954");
    let claim = parse_json::<hms_domain::claims::ProfessionalClaim>(bad_npi.as_bytes()).unwrap();
    let outcome = Claim::from(claim.clone()).scrub(today());
    let issue = outcome
        .issue
        .iter()
        .find(|i| i.diagnostics.as_deref() == Some("npi-check-digit"))
        .unwrap();
    assert_eq!(issue.expression, ["/billingProvider/npi"]);
    assert!(issue.details.text.contains("check digit"), "{issue:?}");
    let unknown = text.replace("\"placeOfService\"", "\"placeOfServise\"");
    let outcome =
        parse_json::<hms_domain::claims::ProfessionalClaim>(unknown.as_bytes()).unwrap_err();
    assert!(
        outcome.issue[0].details.text.contains("placeOfServise"),
        "{outcome:?}"
    );
    let number = text.replace("\"140.00\"", "140.00");
    let outcome =
        parse_json::<hms_domain::claims::ProfessionalClaim>(number.as_bytes()).unwrap_err();
    assert_eq!(outcome.issue[0].expression, ["/claim/totalCharge"]);
}

/// What the 837 spells differently from our JSON, but means the same: diagnosis codes without
/// the dot, ZIP and NDC digits only, a line's place of service only when it differs.
fn canonical(
    mut claim: hms_domain::claims::model::ProfessionalClaim,
) -> hms_domain::claims::model::ProfessionalClaim {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    for d in &mut claim.claim.diagnoses {
        *d = d.replace('.', "").to_ascii_uppercase();
    }
    let mut addresses: Vec<&mut hms_domain::party::Address> = vec![];
    addresses.extend(claim.billing_provider.address.as_mut());
    addresses.extend(claim.pay_to_address.as_mut());
    addresses.extend(claim.subscriber.address.as_mut());
    addresses.extend(claim.patient.as_mut().map(|p| &mut p.address));
    if let Some(a) = claim.ambulance.as_mut() {
        addresses.push(&mut a.pickup);
        addresses.push(&mut a.dropoff);
    }
    for a in addresses {
        a.postal_code = digits(&a.postal_code);
    }
    let place = claim.claim.place_of_service.clone();
    for line in &mut claim.service_lines {
        if line.place_of_service.as_deref() == Some(place.as_str()) {
            line.place_of_service = None;
        }
        if let Some(drug) = line.drug.as_mut() {
            drug.ndc = digits(&drug.ndc);
        }
    }
    claim
}

#[test]
fn every_fixture_claim_survives_837p_and_back() {
    let catalog = Catalog::embedded().unwrap();
    let mut checked = 0;
    for name in professional_fixtures() {
        let claim = parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture(&name)).unwrap();
        let x12 = write_837(&[Claim::from(claim.clone())], &partner(), &envelope()).unwrap();
        let back = hms_domain::claims::read_837::read_837p(&x12, catalog).unwrap();
        assert_eq!(back.len(), 1, "{name}");
        assert_eq!(back[0], canonical(claim), "{name}");
        checked += 1;
    }
    assert!(checked >= 5);
}

#[test]
fn shared_837p_samples_read_into_claims() {
    let catalog = Catalog::embedded().unwrap();
    let dir = hms_test_support::x12_samples().join("837_005010X222A2");
    let mut claims = 0;
    let mut refused = vec![];
    let mut bad_npis = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        match hms_domain::claims::read_837::read_837p(
            &std::fs::read(entry.path()).unwrap(),
            catalog,
        ) {
            Ok(read) => {
                claims += read.len();
                // Most TR3 examples carry made-up NPIs whose check digit fails: the claims
                // read, and the scrubber reports each such NPI.
                for claim in &read {
                    let outcome = Claim::from(claim.clone()).scrub(today());
                    bad_npis += outcome
                        .issue
                        .iter()
                        .filter(|i| i.diagnostics.as_deref() == Some("npi-check-digit"))
                        .count();
                }
            }
            Err(e) => refused.push((
                entry.file_name().to_string_lossy().to_string(),
                e.to_string(),
            )),
        }
    }
    // Files that are not 837P claims at all, or are broken beyond reading, are refused saying
    // which line and element.
    assert!(claims >= 10, "{claims} claims; refused {refused:#?}");
    assert!(bad_npis >= 5, "{bad_npis}");
    for (name, why) in &refused {
        assert!(
            why.starts_with("line ") && !why.starts_with("line 0"),
            "{name}: {why}"
        );
    }
}

#[test]
fn a_batch_of_every_fixture_claim_is_valid_and_reads_back_claim_by_claim() {
    let catalog = Catalog::embedded().unwrap();
    let names = professional_fixtures();
    let mut claims: Vec<_> = names
        .iter()
        .map(|n| parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture(n)).unwrap())
        .collect();
    // One batch has one submitter and receiver.
    let (submitter, receiver) = (claims[0].submitter.clone(), claims[0].receiver.clone());
    for c in &mut claims {
        c.submitter = submitter.clone();
        c.receiver = receiver.clone();
    }
    // The same billing provider twice in a row shares one 2000A loop.
    claims.push(claims[0].clone());
    let x12 = write_837(
        &claims.iter().cloned().map(Claim::from).collect::<Vec<_>>(),
        &partner(),
        &envelope(),
    )
    .unwrap();
    let report = validate_bytes(&x12, catalog);
    let errors: Vec<_> = report.errors().map(|f| f.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let text = String::from_utf8(x12.clone()).unwrap();
    assert_eq!(text.matches("ST*837*").count(), 1);
    assert_eq!(text.matches("CLM*").count(), claims.len());
    let billing_loops = text.matches("*20*1~").count();
    assert!(billing_loops < claims.len(), "{billing_loops} 2000A loops");
    assert!(text.contains("BHT*0019*00*000000042*"));
    let back = hms_domain::claims::read_837::read_837p(&x12, catalog).unwrap();
    let expected: Vec<_> = claims.into_iter().map(canonical).collect();
    assert_eq!(back, expected);
}

#[test]
fn a_batch_names_the_claim_that_cannot_be_written() {
    let claim = parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture(
        "professional-subscriber.json",
    ))
    .unwrap();
    let mut other = claim.clone();
    other.submitter.id = "OTHER".into();
    let err = write_837(
        &[claim.clone().into(), other.into()],
        &partner(),
        &envelope(),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("/1/submitter"), "{err}");
    let mut bad = claim.clone();
    bad.billing_provider.address = None;
    let err = write_837(&[claim.clone().into(), bad.into()], &partner(), &envelope()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/1/billingProvider/address: the billing provider's street address is required (loop 2010AA N3/N4)"
    );
    let err = write_837(&[], &partner(), &envelope()).unwrap_err();
    assert!(err.to_string().contains("at least one claim"), "{err}");
    // One guide per batch: an institutional claim cannot ride in an 837P.
    let institutional = parse_json::<hms_domain::claims::InstitutionalClaim>(
        &std::fs::read(hms_test_support::fixtures().join("claims/institutional-inpatient.json"))
            .unwrap(),
    )
    .unwrap();
    let err = write_837(
        &[claim.into(), institutional.into()],
        &partner(),
        &envelope(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/1: every claim of a batch must be of one kind"),
        "{err}"
    );
}

#[test]
fn a_billing_provider_without_an_npi_is_a_scrubber_error_other_providers_may_lack_one() {
    let mut claim: serde_json::Value =
        serde_json::from_slice(&fixture("professional-subscriber.json")).unwrap();
    claim["billingProvider"]
        .as_object_mut()
        .unwrap()
        .remove("npi");
    let parsed =
        parse_json::<hms_domain::claims::ProfessionalClaim>(&serde_json::to_vec(&claim).unwrap())
            .unwrap();
    let outcome = Claim::from(parsed.clone()).scrub(today());
    let found: Vec<_> = outcome
        .issue
        .iter()
        .map(|i| {
            (
                i.diagnostics.as_deref(),
                i.expression.first().map(String::as_str),
            )
        })
        .collect();
    assert_eq!(found, [(Some("billing-npi"), Some("/billingProvider/npi"))]);
}

#[test]
fn a_text_longer_than_its_837_element_is_a_scrubber_error_never_an_invalid_837() {
    // Found by the fuzzer: a drop-off facility's name of 109 characters passed the scrubber
    // (held to the 264 of any text) and made an NM103 of the 837 invalid.
    let mut claim = parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture(
        "professional-ambulance.json",
    ))
    .unwrap();
    let ambulance = claim.ambulance.as_mut().unwrap();
    ambulance.dropoff_name = Some(format!("CHEYENNE R{}EGIONAL", "z".repeat(92)));
    claim.claim.prior_authorization = Some("9".repeat(51));
    claim.service_lines[0].line_control_number = Some("L".repeat(51));
    let found: Vec<(String, String)> = Claim::from(claim)
        .scrub(today())
        .issue
        .into_iter()
        .map(|i| (i.diagnostics.unwrap(), i.expression[0].clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "text-length".to_string(),
                "/ambulance/dropoffName".to_string()
            ),
            ("text-length".into(), "/claim/priorAuthorization".into()),
            (
                "text-length".into(),
                "/serviceLines/0/lineControlNumber".into()
            ),
        ]
    );
}

#[test]
fn related_causes_and_the_accident_state_are_checked_before_clm11_is_written() {
    let base = parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture(
        "professional-subscriber.json",
    ))
    .unwrap();
    let found = |causes: &[&str], state: Option<&str>| -> Vec<String> {
        let mut claim = base.clone();
        claim.claim.related_causes = causes.iter().map(|c| c.to_string()).collect();
        claim.claim.accident_state = state.map(str::to_string);
        Claim::from(claim)
            .scrub(today())
            .issue
            .into_iter()
            .filter(|i| i.severity == IssueSeverity::Error)
            .map(|i| format!("{} {}", i.diagnostics.unwrap(), i.expression[0]))
            .collect()
    };
    assert!(found(&["AA", "EM"], Some("NY")).is_empty());
    assert!(found(&["OA"], None).is_empty());
    assert_eq!(
        found(&["XX"], None),
        ["related-causes /claim/relatedCauses/0"]
    );
    assert_eq!(
        found(&["EM", "EM"], None),
        ["related-causes /claim/relatedCauses/1"]
    );
    assert_eq!(
        found(&["AA", "EM", "OA"], Some("NY")),
        ["related-causes /claim/relatedCauses"]
    );
    assert_eq!(
        found(&["AA"], None),
        ["accident-state /claim/accidentState"]
    );
    assert_eq!(
        found(&["AA"], Some("New York")),
        ["accident-state /claim/accidentState"]
    );
    assert_eq!(
        found(&["EM"], Some("NY")),
        ["accident-state /claim/accidentState"]
    );
    // What passes is written as valid CLM11.
    let mut claim = base.clone();
    claim.claim.related_causes = vec!["AA".into(), "EM".into()];
    claim.claim.accident_state = Some("NY".into());
    let text =
        String::from_utf8(write_837(&[Claim::from(claim)], &partner(), &envelope()).unwrap())
            .unwrap();
    assert!(text.contains("*AA:EM::NY~"), "{text}");
}

#[test]
fn a_state_is_one_the_postal_services_list_not_any_two_letters() {
    // Found by the fuzzer: "TA" passed as a state and made N402 of the 837 invalid.
    let mut claim = parse_json::<hms_domain::claims::ProfessionalClaim>(&fixture(
        "professional-subscriber.json",
    ))
    .unwrap();
    claim.subscriber.address.as_mut().unwrap().state = "TA".into();
    claim.claim.related_causes = vec!["AA".into()];
    claim.claim.accident_state = Some("QQ".into());
    let found: Vec<String> = Claim::from(claim.clone())
        .scrub(today())
        .issue
        .into_iter()
        .map(|i| format!("{} {}", i.diagnostics.unwrap(), i.expression[0]))
        .collect();
    assert_eq!(
        found,
        [
            "state /subscriber/address/state",
            "accident-state /claim/accidentState"
        ]
    );
    // A Canadian province is a state here too.
    claim.subscriber.address.as_mut().unwrap().state = "ON".into();
    claim.claim.accident_state = Some("QC".into());
    assert!(!Claim::from(claim).scrub(today()).has_errors());
}
