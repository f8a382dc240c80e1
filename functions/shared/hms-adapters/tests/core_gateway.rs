//! The CORE gateway against the payer simulator over real HTTP on 127.0.0.1, driven by the
//! core's use cases: eligibility (active, inactive, unknown member), claims accepted and
//! rejected by the payer, claim status, and the faults (outage, hang, nonsense) a payer has.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hms_adapters::{CoreGateway, Endpoints};
use hms_domain::eligibility::EligibilityInquiry;
use hms_payer_sim::{Fault, FaultRequest, Simulator};
use hms_service::lifecycle::{ClaimState, Submitted};
use hms_service::ports::{NoRules, PayerGateway, Topic};
use hms_service::service::{Clearinghouse, ServiceError, SubmissionMessage};
use hms_service::tenancy::OrganizationId;
use hms_service::testing::{InMemory, ManualClock};

type Stack = Clearinghouse<InMemory<CoreGateway, NoRules, ManualClock>>;

fn clinic() -> OrganizationId {
    OrganizationId::parse("clinic-a").unwrap()
}

/// A claim submitted as the function glue submits it, then handed to the payer as the worker
/// hands it: whether it was on its way, and the claim after the worker.
async fn submit(ch: &Stack, body: &[u8]) -> (bool, serde_json::Value) {
    let (claim, format) = hms_domain::claims::read_claim(body, &ch.connections).unwrap();
    let answer = ch
        .submit_claim(&clinic(), claim, format, None)
        .await
        .unwrap()
        .answer;
    let accepted = matches!(answer, Submitted::Accepted(_));
    for (message, _) in ch.ports.queue.take(Topic::Submissions) {
        let message: SubmissionMessage = serde_json::from_slice(&message).unwrap();
        ch.deliver(&message).await.unwrap();
    }
    let record = ch.claim(&clinic(), &answer.claim().claim_id).await.unwrap();
    let view = hms_service::lifecycle::ClaimView::from(&record);
    (accepted, serde_json::to_value(view).unwrap())
}

fn core_fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/functions/shared/hms-domain/tests/fixtures/{name}",
        hms_test_support::workspace().display()
    ))
    .unwrap()
}

/// A simulator on a free port, and a clearinghouse whose gateway points at it.
async fn stack(timeout_ms: u64) -> (Arc<Simulator>, Stack) {
    let config = hms_payer_sim::SimConfig::local().unwrap();
    let (sim, url) = hms_payer_sim::http::start(config).await.unwrap();
    let gateway = CoreGateway::new(Endpoints::single(url, timeout_ms)).unwrap();
    let stack = hms_service::testing::in_memory(gateway, NoRules, ManualClock::new(Utc::now()));
    (sim, stack)
}

/// The claim of `fixture` is accepted by the simulated payer's 277CA; the same claim with a
/// procedure the payer does not cover (99499, `infra/local/payer.json`) is rejected, A7:21.
async fn accepted_then_rejected(ch: &Stack, fixture: &str) {
    let (accepted, answer) = submit(ch, &core_fixture(fixture)).await;
    assert!(accepted, "{answer}");
    assert_eq!(answer["state"], "accepted-by-payer", "{answer}");

    let mut rejected: serde_json::Value = serde_json::from_slice(&core_fixture(fixture)).unwrap();
    rejected["claim"]["patientControlNumber"] = "REJECT-1".into();
    rejected["serviceLines"][0]["procedureCode"] = "99499".into();
    let (_, answer) = submit(ch, &serde_json::to_vec(&rejected).unwrap()).await;
    assert_eq!(answer["state"], "rejected-by-payer", "{answer}");
    assert!(answer["outcome"].to_string().contains("A7:21"));
}

fn inquiry(member: &str, last: &str, first: &str, birth: &str) -> EligibilityInquiry {
    let mut v: serde_json::Value =
        serde_json::from_slice(&core_fixture("eligibility/inquiry-subscriber.json")).unwrap();
    v["subscriber"]["memberId"] = member.into();
    v["subscriber"]["name"]["last"] = last.into();
    v["subscriber"]["name"]["first"] = first.into();
    v["subscriber"]["birthDate"] = birth.into();
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eligibility_for_active_inactive_and_unknown_members_over_core() {
    let (sim, ch) = stack(5_000).await;
    let responses = ch
        .query_eligibility(
            &clinic(),
            &inquiry("11122333301", "SMITH", "ROBERT", "1943-05-19"),
        )
        .await
        .unwrap();
    let member = &responses[0].members[0];
    assert!(member.errors.is_empty());
    let plan = &member.plans[0];
    assert_eq!(plan.plan.as_deref(), Some("GOLD PPO"));
    let benefits: Vec<_> = plan
        .service_types
        .iter()
        .flat_map(|s| s.benefits.iter())
        .collect();
    assert_eq!(benefits[0].kind.as_deref(), Some("Active Coverage"));
    assert!(
        benefits
            .iter()
            .any(|b| b.code == "B" && b.amount == Some("25.00".parse().unwrap()))
    );
    assert!(
        benefits
            .iter()
            .any(|b| b.code == "A" && b.percent == Some("0.2".parse().unwrap()))
    );

    let responses = ch
        .query_eligibility(
            &clinic(),
            &inquiry("INACTIVE0001", "DOE", "JOHN", "1980-02-02"),
        )
        .await
        .unwrap();
    let first = &responses[0].members[0].plans[0].service_types[0].benefits[0];
    assert_eq!(first.code, "6");
    assert_eq!(first.kind.as_deref(), Some("Inactive"));

    let err = ch
        .query_eligibility(
            &clinic(),
            &inquiry("NOBODY999", "NOONE", "NEMO", "1990-01-01"),
        )
        .await
        .unwrap_err();
    let ServiceError::Rejected { rejections, .. } = &err else {
        panic!("{err:?}");
    };
    let text = rejections[0].reason.as_deref().unwrap_or_default();
    assert!(text.contains("Subscriber/Insured Not Found"), "{text}");

    // A dependent of a member (loop 2000D): the plan is the dependent's; one the payer does
    // not know is "patient not found" (AAA 67).
    let mut dependent: EligibilityInquiry =
        serde_json::from_slice(&core_fixture("eligibility/inquiry-dependent.json")).unwrap();
    let responses = ch.query_eligibility(&clinic(), &dependent).await.unwrap();
    let members = &responses[0].members;
    assert_eq!(members.len(), 2, "{members:?}");
    assert_eq!(members[1].level, "dependent");
    assert_eq!(members[1].first_name.as_deref(), Some("MARY"));
    assert_eq!(members[1].plans[0].plan.as_deref(), Some("GOLD PPO"));
    dependent.dependent.as_mut().unwrap().birth_date = "2016-03-03".parse().unwrap();
    let err = ch
        .query_eligibility(&clinic(), &dependent)
        .await
        .unwrap_err();
    let ServiceError::Rejected { rejections, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(rejections[0].reason_code, "67");

    // Every 270 the payer got passed our validator.
    let kept = sim.kept();
    assert_eq!(kept.len(), 5);
    assert!(kept.iter().all(|k| k.valid), "{:?}", kept[0].errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_accepted_and_rejected_by_the_payer_then_their_status() {
    let (sim, ch) = stack(5_000).await;
    accepted_then_rejected(&ch, "claims/professional-subscriber.json").await;
    // The 837s the payer got are valid.
    assert!(sim.kept().iter().all(|k| k.valid));

    // Status: the accepted claim is known, an unknown one is not found.
    let mut status: serde_json::Value =
        serde_json::from_slice(&core_fixture("status/inquiry-subscriber.json")).unwrap();
    status["claim"]["patientControlNumber"] = "26463774".into();
    let responses = ch
        .claim_status(&clinic(), &serde_json::from_value(status).unwrap())
        .await
        .unwrap();
    let claim = &responses[0].claims[0];
    assert_eq!(claim.statuses[0].category_code, "A2");
    assert_eq!(claim.verdict, hms_domain::claim_status::Verdict::Accepted);
    let responses = ch
        .claim_status(
            &clinic(),
            &serde_json::from_slice(&core_fixture("status/inquiry-subscriber.json")).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(responses[0].claims[0].statuses[0].category_code, "A4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn institutional_claims_get_the_payers_277ca_accepting_or_rejecting_them() {
    let (sim, ch) = stack(5_000).await;
    accepted_then_rejected(&ch, "claims/institutional-outpatient.json").await;
    assert!(sim.kept().iter().all(|k| k.valid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_a_hang_and_nonsense_are_504_502_and_a_waiting_claim_that_recovers() {
    let (sim, ch) = stack(500).await;
    sim.inject(&FaultRequest {
        fault: Some(Fault::Hang { ms: 2_000 }),
        count: 1,
    });
    let err = ch
        .query_eligibility(
            &clinic(),
            &inquiry("11122333301", "SMITH", "ROBERT", "1943-05-19"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::PayerTimeout(_)), "{err}");

    sim.inject(&FaultRequest {
        fault: Some(Fault::Malformed),
        count: 1,
    });
    let err = ch
        .query_eligibility(
            &clinic(),
            &inquiry("11122333301", "SMITH", "ROBERT", "1943-05-19"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::PayerFailed(_)), "{err}");

    // The payer is down for the claim: it waits, and the retry gets it through.
    sim.inject(&FaultRequest {
        fault: Some(Fault::ServerError),
        count: 1,
    });
    let (_, answer) = submit(&ch, &core_fixture("claims/professional-subscriber.json")).await;
    assert_eq!(answer["state"], "waiting-for-payer", "{answer}");
    let queued = ch.ports.queue.take(Topic::Submissions);
    assert_eq!(queued[0].1, Duration::from_secs(30));
    let message: SubmissionMessage = serde_json::from_slice(&queued[0].0).unwrap();
    ch.deliver(&message).await.unwrap();
    let id = hms_service::lifecycle::ClaimId::parse(answer["claimId"].as_str().unwrap()).unwrap();
    let record = ch.claim(&clinic(), &id).await.unwrap();
    assert_eq!(record.state, ClaimState::AcceptedByPayer);
    // The resend carried the first attempt's identity; the payer never saw it twice.
    assert_eq!(
        sim.duplicates(),
        hms_payer_sim::Duplicates {
            resends: 0,
            duplicates: 0
        }
    );
}

/// A one-shot HTTP server on 127.0.0.1 that answers every connection with `answer`, and counts
/// the requests it got.
async fn answering(answer: Vec<u8>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/core", listener.local_addr().unwrap());
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut request = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(&answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, hits)
}

const INQUIRY: &[u8] = b"ISA*00*          *00*          *ZZ*HMSACH         *ZZ*PAYER          *261202*1020*^*00501*000000001*0*T*:~";

#[tokio::test]
async fn a_redirect_is_not_followed_so_the_password_and_claims_go_nowhere_else() {
    let (elsewhere, elsewhere_hits) =
        answering(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec()).await;
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {elsewhere}\r\ncontent-length: 0\r\n\r\n"
    );
    let (url, hits) = answering(redirect.into_bytes()).await;
    let gateway = CoreGateway::new(Endpoints::single(url, 5_000)).unwrap();
    let err = gateway
        .real_time("PAYER", hms_service::ports::RealTime::Eligibility, INQUIRY)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("redirect"), "{err}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(elsewhere_hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_answer_over_the_envelope_limit_is_refused_as_it_arrives() {
    let limit = hms_connectivity::MAX_ENVELOPE_BYTES;
    // A declared length over the limit, and an undeclared one (chunked) that runs past it.
    let declared = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n<x/>",
        limit + 1
    );
    let mut chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..(limit >> 20) + 2 {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(&chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    for answer in [declared.into_bytes(), chunked] {
        let (url, _) = answering(answer).await;
        let gateway = CoreGateway::new(Endpoints::single(url, 20_000)).unwrap();
        let err = gateway
            .real_time("PAYER", hms_service::ports::RealTime::Eligibility, INQUIRY)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains(&format!("over {limit} bytes")),
            "{err}"
        );
    }
}

#[test]
fn plain_http_is_refused_but_for_a_loopback_payer() {
    for url in [
        "http://payer.example.com/core",
        "ftp://127.0.0.1/core",
        "not a url",
    ] {
        let err = CoreGateway::new(Endpoints::single(url.into(), 1_000)).unwrap_err();
        assert!(err.to_string().contains("not https://"), "{url}: {err}");
    }
    for url in [
        "https://payer.example.com/core",
        "http://127.0.0.1:9500/core",
        "http://[::1]/core",
        "http://localhost:1/",
    ] {
        assert!(
            CoreGateway::new(Endpoints::single(url.into(), 1_000)).is_ok(),
            "{url}"
        );
    }
}
