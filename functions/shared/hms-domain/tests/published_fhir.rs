//! Published FHIR R4 Claims nobody here wrote (the FHIR specification's examples, fetched by
//! `infra/corpus.sh`), each read with the resources the specification publishes beside it.
//! Each must become a valid 837 whose lines, codes, amounts and parties match it, or be refused
//! with issues that name exactly what an 837 needs and the Claim lacks.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod common;

use hms_domain::claims::ClaimKind;
use hms_domain::claims::fhir::{read, resources::Resources};
use hms_domain::partner::Connections;
use serde_json::{Value, json};

/// Every published Claim (file name, resource), and a collection Bundle of every resource a
/// Claim may refer to.
fn published() -> (Vec<(String, Value)>, Value) {
    let (claims, beside) = common::published_claims();
    (
        claims,
        json!({ "resourceType": "Bundle", "type": "collection", "entry": beside }),
    )
}

/// The Claim `claim` read from a collection Bundle of it and every published resource.
fn read_beside(
    claim: &Value,
    beside: &Value,
    connections: &Connections,
) -> Result<hms_domain::claims::fhir::Read, hms_domain::outcome::OperationOutcome> {
    let mut bundle = beside.clone();
    bundle["entry"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "resource": claim }));
    let resources = Resources::of(&bundle);
    let claim = &bundle["entry"].as_array().unwrap().last().unwrap()["resource"];
    read(claim, &resources, ClaimKind::of(claim), connections)
}

/// What the specification's `Organization/1` (no NPI), `Organization/2` (no payer id), `Coverage/9876B1`
/// (no member id; v3-ActCode `EHCPOL`) and the unpublished `Patient/1` leave out, for the Claims
/// that refer to them.
const PUBLISHED_PARTIES: &[&str] = &[
    "npi@Claim.provider.identifier",
    "payer-id@Claim.insurer.identifier",
    "fhir-reference@Claim.patient",
    "member-id@Claim.insurance[0].coverage.subscriberId",
    "claim-filing-indicator@Claim.insurance[0].coverage.type",
];

/// What each published Claim lacks for an 837, as `edit@FHIRPath`: reviewed one by one against
/// the resources (the specification's examples name no NPIs, no payer ids, no member ids, no
/// X12 claim filing codes, and code diagnoses and services in example code systems; several
/// are dental, vision or pharmacy claims, or preauthorizations; `Patient/1` is not published).
const REFUSALS: &[(&str, &[&[&str]])] = &[
    (
        "Claim-100150.json",
        &[
            PUBLISHED_PARTIES,
            &[
                "fhir-claim-type@Claim.type",
                "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
                "code-system@Claim.item[0].productOrService",
                "place-of-service@Claim.item[0].locationCodeableConcept",
            ],
        ],
    ),
    (
        "Claim-100151.json",
        &[
            PUBLISHED_PARTIES,
            &[
                "fhir-claim-type@Claim.type",
                "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
                "code-system@Claim.item[0].productOrService",
                "code-system@Claim.item[1].productOrService",
                "code-system@Claim.item[2].productOrService",
                "place-of-service@Claim.item[0].locationCodeableConcept",
            ],
        ],
    ),
    (
        "Claim-100152.json",
        &[&[
            "fhir-claim-type@Claim.type",
            "npi@Claim.provider.identifier",
            "fhir-required@Claim.provider.name",
            "payer-id@Claim.insurer.identifier",
            "member-id@Claim.insurance[0].coverage.subscriberId",
            "claim-filing-indicator@Claim.insurance[0].coverage.type",
            "fhir-required@Claim.patient.address[0].state",
            "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
            "code-system@Claim.item[0].productOrService",
            "place-of-service@Claim.item[0].locationCodeableConcept",
            "fhir-required@Claim.careTeam[0].provider.name",
        ]],
    ),
    (
        "Claim-100153.json",
        &[
            PUBLISHED_PARTIES,
            &[
                "fhir-claim-type@Claim.type",
                "fhir-claim-use@Claim.use",
                "code-system@Claim.item[0].productOrService",
                "code-system@Claim.item[1].productOrService",
                "code-system@Claim.item[2].productOrService",
                "place-of-service@Claim.item[0].locationCodeableConcept",
            ],
        ],
    ),
    (
        "Claim-100154.json",
        &[&[
            "fhir-claim-type@Claim.type",
            "fhir-reference@Claim.provider",
            "fhir-reference@Claim.insurance[0].coverage",
            "payer-id@Claim.insurer.identifier",
            "fhir-reference@Claim.patient",
            "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
            "code-system@Claim.item[0].productOrService",
            "place-of-service@Claim.item[0].locationCodeableConcept",
            "fhir-reference@Claim.careTeam[0].provider",
        ]],
    ),
    (
        "Claim-100155.json",
        &[&[
            "fhir-claim-type@Claim.type",
            "fhir-reference@Claim.provider",
            "fhir-reference@Claim.insurance[0].coverage",
            "payer-id@Claim.insurer.identifier",
            "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
            "code-system@Claim.item[0].productOrService",
            "place-of-service@Claim.item[0].locationCodeableConcept",
            "fhir-reference@Claim.careTeam[0].provider",
        ]],
    ),
    (
        "Claim-100156.json",
        &[
            PUBLISHED_PARTIES,
            &[
                "fhir-claim-type@Claim.type",
                "code-system@Claim.item[0].productOrService",
                "code-system@Claim.item[1].productOrService",
                "code-system@Claim.item[2].productOrService",
            ],
        ],
    ),
    (
        "Claim-660150.json",
        &[
            PUBLISHED_PARTIES,
            &[
                "fhir-claim-type@Claim.type",
                "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
                "code-system@Claim.item[0].productOrService",
                "place-of-service@Claim.item[0].locationCodeableConcept",
            ],
        ],
    ),
    (
        "Claim-660151.json",
        &[
            PUBLISHED_PARTIES,
            &[
                "fhir-claim-type@Claim.type",
                "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
                "code-system@Claim.item[0].productOrService",
                "place-of-service@Claim.item[0].locationCodeableConcept",
            ],
        ],
    ),
    (
        "Claim-660152.json",
        &[&[
            "fhir-claim-type@Claim.type",
            "npi@Claim.provider.identifier",
            "payer-id@Claim.insurer.identifier",
            "fhir-reference@Claim.patient",
            "member-id@Claim.insurance[1].coverage.subscriberId",
            "claim-filing-indicator@Claim.insurance[1].coverage.type",
            "payer-id@Claim.insurance[0].coverage.payor[0].identifier",
            "member-id@Claim.insurance[0].coverage.subscriberId",
            "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
            "code-system@Claim.item[0].productOrService",
            "code-system@Claim.item[0].modifier[0]",
            "place-of-service@Claim.item[0].locationCodeableConcept",
        ]],
    ),
    (
        "Claim-760150.json",
        &[
            PUBLISHED_PARTIES,
            &[
                "fhir-claim-type@Claim.type",
                "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
                "code-system@Claim.item[0].productOrService",
                "place-of-service@Claim.item[0].locationCodeableConcept",
            ],
        ],
    ),
    (
        "Claim-760151.json",
        &[
            PUBLISHED_PARTIES,
            &[
                "fhir-claim-type@Claim.type",
                "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
                "code-system@Claim.item[0].productOrService",
                "place-of-service@Claim.item[0].locationCodeableConcept",
            ],
        ],
    ),
    (
        "Claim-760152.json",
        &[
            PUBLISHED_PARTIES,
            &[
                "fhir-claim-type@Claim.type",
                "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
                "code-system@Claim.item[0].productOrService",
                "place-of-service@Claim.item[0].locationCodeableConcept",
            ],
        ],
    ),
    (
        "Claim-860150.json",
        &[
            PUBLISHED_PARTIES,
            &[
                "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
                "code-system@Claim.item[0].productOrService",
                "place-of-service@Claim.item[0].locationCodeableConcept",
            ],
        ],
    ),
    (
        "Claim-960150.json",
        &[
            PUBLISHED_PARTIES,
            &[
                "type-of-bill@Claim.supportingInfo",
                "fhir-required@Claim.billablePeriod.start",
                "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
                "fhir-required@Claim.item[0].revenue",
                "code-system@Claim.item[0].productOrService",
            ],
        ],
    ),
    (
        "Claim-960151.json",
        &[&[
            "fhir-reference@Claim.provider",
            "payer-id@Claim.insurer.identifier",
            "fhir-reference@Claim.patient",
            "member-id@Claim.insurance[0].coverage.subscriberId",
            "claim-filing-indicator@Claim.insurance[0].coverage.type",
            "type-of-bill@Claim.supportingInfo",
            "code-system@Claim.diagnosis[0].diagnosisCodeableConcept",
            "fhir-required@Claim.item[0].revenue",
            "code-system@Claim.item[0].productOrService",
        ]],
    ),
    (
        "Claim-MED-00050.json",
        &[&[
            "npi@Claim.provider.identifier",
            "payer-id@Claim.insurer.identifier",
            "member-id@Claim.insurance[0].coverage.subscriberId",
            "claim-filing-indicator@Claim.insurance[0].coverage.type",
            "type-of-bill@Claim.supportingInfo",
            "fhir-required@Claim.billablePeriod.start",
            "fhir-required@Claim.item[0].revenue",
        ]],
    ),
];

#[test]
fn every_published_claim_is_refused_for_exactly_what_it_lacks() {
    let (claims, beside) = published();
    let connections = Connections::local();
    let names: Vec<&str> = claims.iter().map(|(n, _)| n.as_str()).collect();
    let expected: Vec<&str> = REFUSALS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, expected, "the corpus holds these published Claims");
    for ((name, claim), (_, lacks)) in claims.iter().zip(REFUSALS) {
        let outcome = match read_beside(claim, &beside, &connections) {
            Ok(read) => panic!("{name} became a claim: {:?}", read.claim),
            Err(outcome) => outcome,
        };
        let mut found: Vec<String> = outcome
            .issue
            .iter()
            .map(|i| {
                format!(
                    "{}@{}",
                    i.diagnostics.as_deref().unwrap_or(""),
                    i.expression.join(",")
                )
            })
            .collect();
        let mut lacks: Vec<String> = lacks
            .iter()
            .flat_map(|group| group.iter())
            .map(|s| s.to_string())
            .collect();
        found.sort();
        lacks.sort();
        assert_eq!(found, lacks, "{name}");
        for issue in &outcome.issue {
            // The message opens with the element (or the element it belongs to).
            let at = issue.expression[0].as_str();
            let owner = at.rsplit_once('.').map_or(at, |(owner, _)| owner);
            assert!(
                issue.details.text.starts_with(at) || issue.details.text.starts_with(owner),
                "{name}: the message names its element: {}",
                issue.details.text
            );
        }
    }
}

#[test]
fn a_published_claim_alone_names_each_reference_it_cannot_follow() {
    let (claims, _) = published();
    let (_, claim) = claims
        .iter()
        .find(|(n, _)| n == "Claim-860150.json")
        .unwrap();
    let outcome = read(
        claim,
        &Resources::of(claim),
        ClaimKind::of(claim),
        &Connections::local(),
    )
    .unwrap_err();
    for (at, reference) in [
        ("Claim.provider", "Organization/1"),
        ("Claim.insurance[0].coverage", "Coverage/9876B1"),
        ("Claim.patient", "Patient/1"),
    ] {
        let issue = outcome
            .issue
            .iter()
            .find(|i| i.expression == [at])
            .unwrap_or_else(|| panic!("{at}: {outcome:#?}"));
        assert_eq!(issue.diagnostics.as_deref(), Some("fhir-reference"));
        assert!(
            issue.details.text.contains(&format!("{reference:?}")),
            "{}",
            issue.details.text
        );
    }
}

#[test]
fn the_payer_directory_fills_what_a_published_claim_leaves_open() {
    // XYZ Insurance (Organization/2) is known to the directory by its published identifier;
    // its Coverage's type is v3-ActCode EHCPOL, which is no X12 claim filing code.
    let (claims, beside) = published();
    let (_, claim) = claims
        .iter()
        .find(|(n, _)| n == "Claim-860150.json")
        .unwrap();
    let mut connections = Connections::local();
    connections
        .directory
        .push(hms_domain::partner::PayerProfile {
            id: "XYZINS01".into(),
            name: "XYZ INSURANCE".into(),
            aliases: vec!["666666".into()],
            claim_filing_indicator: Some("CI".into()),
        });
    let outcome = read_beside(claim, &beside, &connections).unwrap_err();
    let ids: Vec<&str> = outcome
        .issue
        .iter()
        .filter_map(|i| i.diagnostics.as_deref())
        .collect();
    assert!(!ids.contains(&"payer-id"), "{ids:?}");
    assert!(!ids.contains(&"claim-filing-indicator"), "{ids:?}");
    // What is still missing is the provider's and the patient's, not the payer's.
    assert!(
        ids.contains(&"npi") && ids.contains(&"member-id"),
        "{ids:?}"
    );
}
