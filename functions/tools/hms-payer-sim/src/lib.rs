//! A payer, simulated: it speaks CAQH CORE connectivity 2.2.0 over HTTP and answers as a payer
//! would, so that every path of HMS-ACH runs end to end without a real one.
//!
//! - 270 → 271 from a member table: active coverage with the plan's copay, deductible and
//!   coinsurance; inactive coverage; an unknown member, a wrong name or birth date as AAA.
//! - 837 → a 999 from our own validator and a 277CA accepting or
//!   rejecting each claim by configurable rules; both fetched with a results retrieval, or,
//!   for the payer ids it answers by file (`acknowledgeByFile`), dropped into the drop zone
//!   (`POST /admin/acknowledgments` hands them over).
//! - 276 → 277 for the claims it has seen (or "not found").
//! - The claims it accepted, paid in 835s by configurable rules (`POST /admin/remit`, or
//!   every few seconds into the local stack's drop zone): see [`remit`].
//! - Latency, and faults injected through `POST /admin/faults`: hangs, 5xx, malformed answers.
//!
//! Every X12 it receives is checked by our validator, and kept (in memory, and in a directory
//! when given) for a test to inspect.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use hms_connectivity::{CoreMessage, MessageKind, error_code, payload_type};
use hms_domain::claim_status::{ClaimStatus, Status, StatusParty, StatusResponse};
use hms_domain::eligibility::{
    Benefit, DatedPeriod, EligibilityResponse, MemberEligibility, PlanBenefits, Rejection,
    ServiceTypeBenefits,
};
use hms_domain::outcome::{Details, Issue, IssueSeverity, IssueType, OperationOutcome};
use hms_domain::partner::{Envelope, TradingPartner, Usage};
use hms_domain::party::Name;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub mod http;
pub mod remit;

/// A member of the simulated plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Member {
    /// The member id (NM109 of the subscriber).
    pub member_id: String,
    /// Last name, as the payer has it.
    pub last_name: String,
    /// First name.
    pub first_name: String,
    /// Date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// Whether coverage is active.
    pub active: bool,
    /// The plan's name.
    pub plan: String,
    /// Office-visit copay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copay: Option<Decimal>,
    /// Calendar-year deductible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deductible: Option<Decimal>,
    /// What is left of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deductible_remaining: Option<Decimal>,
    /// Coinsurance, as a fraction (0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coinsurance: Option<Decimal>,
    /// When coverage began.
    pub coverage_begin: NaiveDate,
    /// The subscriber's dependents on the plan (loop 2000D of a 270 asks about one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependents: Vec<Dependent>,
}

/// A dependent of a member: covered by the member's plan, known by name and birth date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dependent {
    /// Last name.
    pub last_name: String,
    /// First name.
    pub first_name: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
}

/// When the simulated payer rejects a claim in its 277CA.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimRules {
    /// Procedure codes it does not pay for.
    #[serde(default)]
    pub reject_procedure_codes: Vec<String>,
    /// A total charge above which it rejects the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_charges_over: Option<Decimal>,
    /// Whether a claim for a member not in the table is rejected.
    #[serde(default)]
    pub reject_unknown_members: bool,
}

/// The simulator's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimConfig {
    /// The payer's id (NM109 of 2100A, ISA06 of its answers).
    pub payer_id: String,
    /// Its name.
    pub payer_name: String,
    /// Its members.
    pub members: Vec<Member>,
    /// Its claim edits.
    #[serde(default)]
    pub claim_rules: ClaimRules,
    /// How it pays the claims it accepted.
    #[serde(default)]
    pub payment_rules: remit::PaymentRules,
    /// The payer ids (NM1*PR of the 837) it answers by file: their 999s and 277CAs are
    /// dropped into the drop zone (`inbound/{payer}/...`) rather than served to results
    /// retrieval, as a payer without CORE batch retrieval does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledge_by_file: Vec<String>,
    /// Latency added to every answer.
    #[serde(default)]
    pub latency_ms: u64,
    /// The WS-Security credentials it requires, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The password for `username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl SimConfig {
    /// The simulated payer of the local stack and the tests (`infra/local/payer.json`): its
    /// members and their dependents, and the claim rules its 277CAs follow.
    pub fn local() -> Result<Self, serde_json::Error> {
        serde_json::from_str(include_str!("../../../../infra/local/payer.json"))
    }
}

/// A fault to inject into the next answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "mode", deny_unknown_fields)]
pub enum Fault {
    /// Waits this long before answering (past a caller's timeout).
    Hang {
        /// How long.
        ms: u64,
    },
    /// Answers HTTP 503.
    ServerError,
    /// Answers HTTP 200 with a body that is not a CORE envelope.
    Malformed,
}

/// `POST /admin/faults`: `fault` for the next `count` CORE requests (`null` clears them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRequest {
    /// The fault, or none.
    pub fault: Option<Fault>,
    /// How many requests it hits.
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

/// One X12 the simulator received, with our validator's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kept {
    /// The CORE payload type it came as.
    pub payload_type: String,
    /// The envelope's payload id.
    pub payload_id: String,
    /// Whether our validator found no error.
    pub valid: bool,
    /// The validator's error messages, at most 20.
    pub errors: Vec<String>,
    /// The X12.
    pub x12: String,
}

/// An answer, before HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
    /// How long to wait before sending it.
    pub delay: Duration,
}

impl Reply {
    fn soap(body: String) -> Self {
        Self {
            status: 200,
            content_type: "application/soap+xml; charset=utf-8",
            body,
            delay: Duration::ZERO,
        }
    }

    fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    faults: VecDeque<Fault>,
    /// Patient control number → (status category, status code, total charge, service date).
    claims: HashMap<String, (String, String, Option<Decimal>, Option<NaiveDate>)>,
    /// Batch payload id → its 999 and 277CA.
    results: HashMap<String, (Vec<u8>, Option<Vec<u8>>)>,
    /// Batch payload ids whose acknowledgments go by file, not to retrieval.
    by_file: std::collections::HashSet<String>,
    /// Acknowledgment files written and not yet taken (dropped, or handed to a test).
    ack_files: Vec<AckFile>,
    kept: Vec<Kept>,
    control: u32,
    /// Original claims' patient control numbers → the payload ids they came under.
    originals: HashMap<String, Vec<String>>,
    /// Submissions again under a payload id already held: recognised, answered as before.
    resends: usize,
    /// Original claims whose patient control number came again under a new identity.
    duplicates: usize,
    /// The claims it accepted, paid or to be paid.
    payables: Vec<remit::Payable>,
    /// The patient control numbers in `payables`.
    payable_numbers: std::collections::HashSet<String>,
    /// What is left of each member's deductible.
    deductibles: remit::Deductibles,
}

/// A 999 or 277CA the simulator answers by file: where it goes in the drop zone, and the X12.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AckFile {
    /// Its key under the drop zone (`inbound/{payer}/{payload id}.999` or `.277`).
    pub key: String,
    /// The X12.
    pub x12: String,
}

/// `GET /admin/duplicates`: what a payer would see of a clearinghouse that sends twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Duplicates {
    /// 837s sent again under a payload id the payer holds (a recognised resend).
    pub resends: usize,
    /// Original claims (frequency 1) sent again under a new identity while the payer holds the
    /// first in adjudication: what a payer denies as a duplicate, or pays twice.
    pub duplicates: usize,
}

/// The simulated payer.
#[derive(Debug)]
pub struct Simulator {
    config: SimConfig,
    keep_dir: Option<PathBuf>,
    state: Mutex<State>,
}

/// A value of a segment as text.
fn value(s: &hms_x12::Segment<'_>, n: usize) -> String {
    String::from_utf8_lossy(s.value(n)).trim().to_string()
}

/// The party an NM1 names.
fn party(nm1: &hms_x12::Segment<'_>) -> StatusParty {
    let name = if value(nm1, 2) == "1" {
        Name::Person {
            last: value(nm1, 3),
            first: value(nm1, 4),
            middle: Some(value(nm1, 5)).filter(|v| !v.is_empty()),
            suffix: Some(value(nm1, 7)).filter(|v| !v.is_empty()),
        }
    } else {
        Name::Organization {
            name: value(nm1, 3),
        }
    };
    StatusParty {
        entity: value(nm1, 1),
        name,
        id_qualifier: Some(value(nm1, 8)).filter(|v| !v.is_empty()),
        id: Some(value(nm1, 9)).filter(|v| !v.is_empty()),
    }
}

fn ccyymmdd(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.get(..8)?, "%Y%m%d").ok()
}

impl Simulator {
    /// A simulator for `config`, keeping what it receives in `keep_dir` too when given.
    pub fn new(config: SimConfig, keep_dir: Option<PathBuf>) -> Self {
        Self {
            config,
            keep_dir,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sets the faults of the next requests.
    pub fn inject(&self, request: &FaultRequest) {
        let mut state = self.state();
        state.faults.clear();
        if let Some(fault) = request.fault {
            state
                .faults
                .extend(std::iter::repeat_n(fault, request.count as usize));
        }
    }

    /// What it counted of claims sent again.
    pub fn duplicates(&self) -> Duplicates {
        let state = self.state();
        Duplicates {
            resends: state.resends,
            duplicates: state.duplicates,
        }
    }

    /// What it has received so far.
    pub fn kept(&self) -> Vec<Kept> {
        self.state().kept.clone()
    }

    /// An HTTP request: `POST /core` (CORE SOAP), `POST /admin/faults`, `GET /admin/received`,
    /// `GET /health`.
    pub fn handle(&self, method: &str, path: &str, body: &[u8]) -> Reply {
        match (method, path) {
            ("GET", "/health") => Reply::json(200, serde_json::json!({ "status": "ok" })),
            ("GET", "/admin/duplicates") => Reply::json(
                200,
                serde_json::to_value(self.duplicates()).unwrap_or_default(),
            ),
            ("POST", "/admin/remit") => match self.remit() {
                Ok(written) => Reply::json(200, serde_json::to_value(written).unwrap_or_default()),
                Err(e) => Reply::json(500, serde_json::json!({ "error": e })),
            },
            ("POST", "/admin/acknowledgments") => Reply::json(
                200,
                serde_json::to_value(self.acknowledgment_files()).unwrap_or_default(),
            ),
            ("GET", "/admin/received") => {
                Reply::json(200, serde_json::to_value(self.kept()).unwrap_or_default())
            }
            ("POST", "/admin/faults") => match serde_json::from_slice::<FaultRequest>(body) {
                Ok(request) => {
                    self.inject(&request);
                    Reply::json(200, serde_json::json!({ "injected": request.count }))
                }
                Err(e) => Reply::json(400, serde_json::json!({ "error": e.to_string() })),
            },
            ("POST", "/core") => {
                let fault = self.state().faults.pop_front();
                let mut reply = match fault {
                    Some(Fault::ServerError) => Reply {
                        status: 503,
                        content_type: "text/plain",
                        body: "simulated outage".into(),
                        delay: Duration::ZERO,
                    },
                    Some(Fault::Malformed) => Reply::soap("<html>this is not CORE</html>".into()),
                    Some(Fault::Hang { ms }) => Reply {
                        delay: Duration::from_millis(ms),
                        ..self.core(body)
                    },
                    None => self.core(body),
                };
                reply.delay += Duration::from_millis(self.config.latency_ms);
                reply
            }
            _ => Reply::json(
                404,
                serde_json::json!({ "error": format!("no route {method} {path}") }),
            ),
        }
    }

    /// One CORE request.
    pub fn core(&self, body: &[u8]) -> Reply {
        let received = match hms_connectivity::parse(body) {
            Ok(r) => r,
            Err(e) => {
                return Reply {
                    status: 400,
                    ..Reply::soap(hms_connectivity::fault("soapenv:Sender", &e.to_string()))
                };
            }
        };
        let request = received.message;
        let now = Utc::now();
        let answer =
            |kind, payload_type: &str, payload: Option<Vec<u8>>, code: &str, text: &str| {
                Reply::soap(
                    request
                        .respond(kind, payload_type, payload, code, text, now)
                        .to_soap(None),
                )
            };
        let response_kind = match request.kind {
            MessageKind::RealTimeRequest => MessageKind::RealTimeResponse,
            MessageKind::BatchSubmission => MessageKind::BatchSubmissionResponse,
            MessageKind::BatchResultsRetrievalRequest => MessageKind::BatchResultsRetrievalResponse,
            other => {
                return Reply {
                    status: 400,
                    ..Reply::soap(hms_connectivity::fault(
                        "soapenv:Sender",
                        &format!("{} is an answer, not a request", other.element()),
                    ))
                };
            }
        };
        if let Some(user) = &self.config.username {
            let ok = received.credentials.as_ref().is_some_and(|c| {
                &c.username == user && Some(&c.password) == self.config.password.as_ref()
            });
            if !ok {
                return answer(
                    response_kind,
                    &request.payload_type,
                    None,
                    error_code::UNAUTHORIZED,
                    "the UsernameToken is missing or wrong",
                );
            }
        }
        let payload = request.payload.clone().unwrap_or_default();
        match (request.kind, request.payload_type.as_str()) {
            (
                MessageKind::RealTimeRequest,
                payload_type::ELIGIBILITY_REQUEST | payload_type::STATUS_REQUEST,
            ) => {
                let report = match self.keep(&request, &payload) {
                    Ok(report) => report,
                    Err(e) => return Self::broken(&e),
                };
                // A request our validator rejects is answered with its 999.
                let (kind, x12) = if report.has_errors() {
                    (payload_type::ACK_999_RESPONSE, self.ack_999(&report))
                } else if request.payload_type == payload_type::ELIGIBILITY_REQUEST {
                    (
                        payload_type::ELIGIBILITY_RESPONSE,
                        self.eligibility(&payload),
                    )
                } else {
                    (payload_type::STATUS_RESPONSE, self.status(&payload))
                };
                match x12 {
                    Ok(x12) => answer(response_kind, kind, Some(x12), error_code::SUCCESS, "None"),
                    Err(e) => Self::broken(&e),
                }
            }
            (
                MessageKind::BatchSubmission,
                payload_type::PROFESSIONAL_CLAIM | payload_type::INSTITUTIONAL_CLAIM,
            ) => {
                if self.is_resend(&request.payload_id, &payload) {
                    return answer(
                        response_kind,
                        payload_type::BATCH_RECEIPT,
                        None,
                        error_code::SUCCESS,
                        "None",
                    );
                }
                let ack = match self
                    .keep(&request, &payload)
                    .and_then(|report| self.ack_999(&report))
                {
                    Ok(ack) => ack,
                    Err(e) => return Self::broken(&e),
                };
                let ca = self.claim_acknowledgment(&payload);
                // The payer the 837 is for (NM1*PR of 2010BB): one per 837.
                let by_file = hms_x12::Tokenizer::new(&payload)
                    .flatten()
                    .find(|s| s.id() == b"NM1" && s.value(1) == b"PR")
                    .map(|s| value(&s, 9))
                    .filter(|payer| self.config.acknowledge_by_file.contains(payer));
                let mut state = self.state();
                if let Some(payer) = by_file {
                    let stem = format!("inbound/{payer}/{}", request.payload_id);
                    state.ack_files.push(AckFile {
                        key: format!("{stem}.999"),
                        x12: String::from_utf8_lossy(&ack).into_owned(),
                    });
                    if let Some(ca) = &ca {
                        state.ack_files.push(AckFile {
                            key: format!("{stem}.277"),
                            x12: String::from_utf8_lossy(ca).into_owned(),
                        });
                    }
                    state.by_file.insert(request.payload_id.clone());
                }
                state.results.insert(request.payload_id.clone(), (ack, ca));
                drop(state);
                answer(
                    response_kind,
                    payload_type::BATCH_RECEIPT,
                    None,
                    error_code::SUCCESS,
                    "None",
                )
            }
            (
                MessageKind::BatchResultsRetrievalRequest,
                payload_type::ACK_999_REQUEST | payload_type::ACK_277CA_REQUEST,
            ) => {
                let want_999 = request.payload_type == payload_type::ACK_999_REQUEST;
                let state = self.state();
                // Answered by file: retrieval has nothing for it.
                let found = state
                    .results
                    .get(&request.payload_id)
                    .filter(|_| !state.by_file.contains(&request.payload_id))
                    .and_then(|(a, c)| if want_999 { Some(a.clone()) } else { c.clone() });
                drop(state);
                let kind = if want_999 {
                    payload_type::ACK_999_RESPONSE
                } else {
                    payload_type::ACK_277CA_RESPONSE
                };
                match found {
                    Some(x12) => {
                        answer(response_kind, kind, Some(x12), error_code::SUCCESS, "None")
                    }
                    None => answer(
                        response_kind,
                        kind,
                        None,
                        error_code::NO_RESULTS,
                        "no results for that payload id",
                    ),
                }
            }
            (_, other) => answer(
                response_kind,
                other,
                None,
                error_code::PAYLOAD_TYPE_INCORRECT,
                &format!(
                    "this payer does not take {other} in a {}",
                    request.kind.element()
                ),
            ),
        }
    }

    /// Whether `x12` under `payload_id` is a resend of a submission held (counted); otherwise
    /// its original claims are counted against the patient control numbers held.
    fn is_resend(&self, payload_id: &str, x12: &[u8]) -> bool {
        let mut state = self.state();
        if state.results.contains_key(payload_id) {
            state.resends += 1;
            tracing::info!(payload_id, "a resend of a submission held");
            return true;
        }
        let state = &mut *state;
        for pcn in hms_domain::claims::read_837::original_claim_numbers(x12) {
            // A claim the payer took into adjudication (accepted in its 277CA) is held; one it
            // rejected may come again, corrected, under its number.
            let held = state
                .claims
                .get(&pcn)
                .is_some_and(|(category, ..)| category == "A2");
            let under = state.originals.entry(pcn).or_default();
            if held && !under.is_empty() {
                state.duplicates += 1;
                tracing::warn!(payload_id, "a duplicate original claim");
            }
            under.push(payload_id.to_string());
        }
        false
    }

    /// The acknowledgment files written since last asked, taken: what
    /// `POST /admin/acknowledgments` answers and the drop loop drops.
    pub fn acknowledgment_files(&self) -> Vec<AckFile> {
        std::mem::take(&mut self.state().ack_files)
    }

    /// Pays what it accepted and has not paid (and the corrections its rules asked for), in
    /// 835s our validator passes: what `POST /admin/remit` answers and the drop loop drops.
    pub fn remit(&self) -> Result<Vec<remit::Written835>, String> {
        let today = Utc::now().date_naive();
        let mut state = self.state();
        let state = &mut *state;
        remit::pay(
            &mut state.payables,
            &self.config.payment_rules,
            &self.config.members,
            &mut state.deductibles,
            &mut state.control,
            today,
        )
    }

    /// A SOAP fault for a defect of the simulator itself (500: the payer's side failed).
    fn broken(why: &str) -> Reply {
        tracing::error!(error = why, "the simulator failed");
        Reply {
            status: 500,
            ..Reply::soap(hms_connectivity::fault("soapenv:Receiver", why))
        }
    }

    /// Validates `x12` and keeps it with the verdict; the report is what its 999 is made of.
    fn keep(&self, request: &CoreMessage, x12: &[u8]) -> Result<hms_x12::validate::Report, String> {
        let catalog = hms_x12::spec::Catalog::embedded().map_err(|e| e.to_string())?;
        let report = hms_x12::validate::validate_bytes(x12, catalog);
        let errors: Vec<String> = report.errors().take(20).map(|f| f.to_string()).collect();
        let kept = Kept {
            payload_type: request.payload_type.clone(),
            payload_id: request.payload_id.clone(),
            valid: !report.has_errors(),
            errors,
            x12: String::from_utf8_lossy(x12).into_owned(),
        };
        let mut state = self.state();
        if let Some(dir) = &self.keep_dir {
            let name = format!("{:06}-{}.x12", state.kept.len() + 1, request.payload_type);
            if let Err(e) =
                std::fs::create_dir_all(dir).and_then(|()| std::fs::write(dir.join(name), x12))
            {
                tracing::warn!(error = %e, "a received X12 was not kept on disk");
            }
        }
        state.kept.push(kept);
        Ok(report)
    }

    /// The next control number of the simulator's answers (1 to 999,999,999, then 1 again).
    fn next_control(&self) -> u32 {
        let mut state = self.state();
        state.control = state.control % 999_999_999 + 1;
        state.control
    }

    /// The envelope of the next answer, addressed back to whoever sent `x12`.
    fn reply_envelope(&self, x12: &[u8]) -> (TradingPartner, Envelope) {
        let isa = hms_x12::Tokenizer::new(x12)
            .flatten()
            .find(|s| s.id() == b"ISA");
        let (sender_q, sender, receiver_q, receiver, gs_sender) = match &isa {
            Some(isa) => (
                value(isa, 5),
                value(isa, 6),
                value(isa, 7),
                value(isa, 8),
                hms_x12::Tokenizer::new(x12)
                    .flatten()
                    .find(|s| s.id() == b"GS")
                    .map(|gs| value(&gs, 2))
                    .unwrap_or_else(|| value(isa, 6)),
            ),
            None => (
                "ZZ".into(),
                "UNKNOWN".into(),
                "ZZ".into(),
                self.config.payer_id.clone(),
                "UNKNOWN".into(),
            ),
        };
        let partner = TradingPartner {
            sender_qualifier: receiver_q,
            sender_id: receiver.clone(),
            receiver_qualifier: sender_q,
            receiver_id: sender,
            application_sender: receiver,
            application_receiver: gs_sender,
            usage: Usage::Test,
            ack_requested: false,
            submitter: None,
        };
        let control = self.next_control();
        let envelope = Envelope::new(control, Utc::now().naive_utc());
        (partner, envelope)
    }

    /// The 999 of a validated X12.
    fn ack_999(&self, report: &hms_x12::validate::Report) -> Result<Vec<u8>, String> {
        hms_x12::ack::ack_999(report, &hms_x12::ack::AckOptions::now(self.next_control()))
            .map_err(|e| format!("the simulator could not write its 999: {e}"))
    }

    /// The 271 for a 270.
    fn eligibility(&self, x12: &[u8]) -> Result<Vec<u8>, String> {
        let (partner, envelope) = self.reply_envelope(x12);
        let mut source = None;
        let mut receiver = None;
        let mut subscriber = None;
        let mut birth = None;
        let mut dependent: Option<(StatusParty, Option<NaiveDate>)> = None;
        let mut trace = None;
        let mut service_types = vec![];
        for s in hms_x12::Tokenizer::new(x12).flatten() {
            match s.id() {
                b"NM1" => match value(&s, 1).as_str() {
                    "PR" => source = Some(party(&s)),
                    "1P" | "FA" | "80" => receiver = Some(party(&s)),
                    "IL" => subscriber = Some(party(&s)),
                    "03" => dependent = Some((party(&s), None)),
                    _ => {}
                },
                // The dependent's DMG follows its NM1*03; the subscriber's comes before.
                b"DMG" => match &mut dependent {
                    Some((_, born)) => *born = ccyymmdd(&value(&s, 2)),
                    None if birth.is_none() => birth = ccyymmdd(&value(&s, 2)),
                    None => {}
                },
                b"TRN" if trace.is_none() => trace = Some(value(&s, 2)),
                b"EQ" => {
                    let repetition = s.delimiters().repetition;
                    service_types.extend(
                        s.value(1)
                            .split(|b| *b == repetition)
                            .map(|c| String::from_utf8_lossy(c).trim().to_string())
                            .filter(|c| !c.is_empty()),
                    );
                }
                _ => {}
            }
        }
        let subscriber = subscriber.unwrap_or(StatusParty {
            entity: "IL".into(),
            name: Name::Organization {
                name: String::new(),
            },
            id_qualifier: None,
            id: None,
        });
        let member_id = subscriber.id.clone().unwrap_or_default();
        let (last, first) = match &subscriber.name {
            Name::Person { last, first, .. } => (last.clone(), first.clone()),
            Name::Organization { name } => (name.clone(), String::new()),
        };
        let found = self
            .config
            .members
            .iter()
            .find(|m| m.member_id == member_id);
        let reject = |code: &str| Rejection {
            valid_request: true,
            reason_code: code.into(),
            reason: None,
            follow_up_code: "C".into(),
            follow_up: None,
        };
        let mut member = MemberEligibility {
            level: "subscriber".into(),
            trace_numbers: trace.into_iter().collect(),
            last_name: last.clone(),
            first_name: Some(first.clone()).filter(|f| !f.is_empty()),
            member_id: Some(member_id.clone()),
            birth_date: birth,
            errors: vec![],
            dates: vec![],
            plans: vec![],
        };
        let mut members = vec![];
        match found {
            None => member.errors.push(reject("75")),
            Some(m) if !m.last_name.eq_ignore_ascii_case(&last) => member.errors.push(reject("73")),
            Some(m) if birth.is_some() && m.birth_date.is_some() && m.birth_date != birth => {
                member.errors.push(reject("71"))
            }
            Some(m) => {
                member.last_name = m.last_name.clone();
                member.first_name = Some(m.first_name.clone());
                member.birth_date = m.birth_date.or(birth);
                let coverage = DatedPeriod {
                    qualifier: "346".into(),
                    from: m.coverage_begin,
                    to: None,
                };
                match &dependent {
                    // The subscriber, then the dependent the inquiry is about, with the plan.
                    Some((asked, born)) => {
                        let (last, first) = match &asked.name {
                            Name::Person { last, first, .. } => (last.clone(), first.clone()),
                            Name::Organization { name } => (name.clone(), String::new()),
                        };
                        let mut patient = MemberEligibility {
                            level: "dependent".into(),
                            trace_numbers: vec![],
                            last_name: last.clone(),
                            first_name: Some(first.clone()).filter(|f| !f.is_empty()),
                            member_id: None,
                            birth_date: *born,
                            errors: vec![],
                            dates: vec![],
                            plans: vec![],
                        };
                        let known = m.dependents.iter().find(|d| {
                            d.last_name.eq_ignore_ascii_case(&last)
                                && d.first_name.eq_ignore_ascii_case(&first)
                                && born.is_none_or(|b| b == d.birth_date)
                        });
                        match known {
                            // Patient not found.
                            None => patient.errors.push(reject("67")),
                            Some(_) => {
                                patient.dates.push(coverage);
                                patient.plans.push(plan(m, &service_types));
                            }
                        }
                        patient.trace_numbers = std::mem::take(&mut member.trace_numbers);
                        members.push(std::mem::replace(&mut member, patient));
                    }
                    None => {
                        member.dates.push(coverage);
                        member.plans.push(plan(m, &service_types));
                    }
                }
            }
        }
        members.push(member);
        let response = EligibilityResponse {
            payer: Some(self.config.payer_name.clone()),
            source: Some(source.unwrap_or(StatusParty {
                entity: "PR".into(),
                name: Name::Organization {
                    name: self.config.payer_name.clone(),
                },
                id_qualifier: Some("PI".into()),
                id: Some(self.config.payer_id.clone()),
            })),
            receiver,
            errors: vec![],
            members,
        };
        hms_domain::eligibility::response_271(&response, &partner, &envelope)
            .map_err(|e| format!("the simulator could not write its 271: {e}"))
    }

    /// The 999-then-277CA verdict on each claim of an 837P or 837I, by the configured claim
    /// rules, remembered for 276s.
    fn claim_acknowledgment(&self, x12: &[u8]) -> Option<Vec<u8>> {
        let catalog = hms_x12::spec::Catalog::embedded().ok()?;
        let claims = hms_domain::claims::read_837::read_837(x12, catalog).ok()?;
        let rules = &self.config.claim_rules;
        let outcomes: Vec<OperationOutcome> = claims
            .iter()
            .map(|c| {
                let mut why = vec![];
                if rules.reject_unknown_members
                    && !self
                        .config
                        .members
                        .iter()
                        .any(|m| m.member_id == c.subscriber().member_id.as_str())
                {
                    why.push("the subscriber is not a member of this plan".to_string());
                }
                for code in c.procedure_codes() {
                    if rules.reject_procedure_codes.iter().any(|r| r == code) {
                        why.push(format!("procedure {code} is not covered"));
                    }
                }
                if rules
                    .reject_charges_over
                    .is_some_and(|limit| c.total_charge() > limit)
                {
                    why.push("the total charge is above this payer's limit".into());
                }
                OperationOutcome::new(
                    why.into_iter()
                        .map(|text| Issue {
                            severity: IssueSeverity::Error,
                            code: IssueType::BusinessRule,
                            diagnostics: Some("payer-edit".into()),
                            details: Details { text },
                            expression: vec![],
                        })
                        .collect(),
                )
            })
            .collect();
        {
            let mut state = self.state();
            for (c, o) in claims.iter().zip(&outcomes) {
                let pcn = c.patient_control_number().as_str();
                if !o.has_errors() && state.payable_numbers.insert(pcn.to_string()) {
                    state.payables.push(remit::Payable::of(c));
                }
                let (category, code) = if o.has_errors() {
                    ("A7", "21")
                } else {
                    ("A2", "20")
                };
                state.claims.insert(
                    c.patient_control_number().as_str().to_string(),
                    (
                        category.into(),
                        code.into(),
                        Some(c.total_charge()),
                        c.service_period().map(|(from, _)| from),
                    ),
                );
            }
        }
        let batch: Vec<hms_domain::claims::ack_277ca::Reviewed<'_>> = claims
            .iter()
            .zip(&outcomes)
            .map(|(claim, outcome)| hms_domain::claims::ack_277ca::Reviewed { claim, outcome })
            .collect();
        let (partner, envelope) = self.reply_envelope(x12);
        let reference = hms_x12::Tokenizer::new(x12)
            .flatten()
            .find(|s| s.id() == b"BHT")
            .map(|s| value(&s, 3))
            .unwrap_or_else(|| "0001".into());
        hms_domain::claims::ack_277ca::claim_acknowledgment(
            &batch,
            // The payer the claims were sent to answers (one per 837), as it pays them.
            &claims.first().map_or_else(
                || hms_domain::claims::ack_277ca::InformationSource {
                    name: self.config.payer_name.clone(),
                    id: self.config.payer_id.clone(),
                },
                |c| hms_domain::claims::ack_277ca::InformationSource {
                    name: c.parties().payer.name.clone(),
                    id: c.payer_id().to_string(),
                },
            ),
            &reference,
            envelope.created.date(),
            &partner,
            &envelope,
        )
        .ok()
    }

    /// The 277 for a 276: the status of each claim asked about, as this payer knows it.
    fn status(&self, x12: &[u8]) -> Result<Vec<u8>, String> {
        let (partner, envelope) = self.reply_envelope(x12);
        let mut response = StatusResponse {
            guide: Some("005010X212".into()),
            source: None,
            receiver: None,
            receiver_trace_number: None,
            batch_statuses: vec![],
            claims: vec![],
        };
        let mut provider = None;
        let mut subscriber = None;
        let mut patient = None;
        let mut current: Option<ClaimStatus> = None;
        let today = Utc::now().date_naive();
        let finish = |c: Option<ClaimStatus>, out: &mut Vec<ClaimStatus>| out.extend(c);
        for s in hms_x12::Tokenizer::new(x12).flatten() {
            match s.id() {
                b"NM1" => match value(&s, 1).as_str() {
                    "PR" => response.source = Some(party(&s)),
                    "41" => response.receiver = Some(party(&s)),
                    "1P" => provider = Some(party(&s)),
                    "IL" => subscriber = Some(party(&s)),
                    "QC" => patient = Some(party(&s)),
                    _ => {}
                },
                b"TRN" => {
                    finish(current.take(), &mut response.claims);
                    current = Some(ClaimStatus {
                        trace_number: value(&s, 2),
                        patient_control_number: None,
                        payer_claim_control_number: None,
                        provider: provider.clone(),
                        subscriber: subscriber.clone(),
                        patient: patient.clone(),
                        service_from: None,
                        service_to: None,
                        verdict: hms_domain::claim_status::Verdict::Unknown,
                        statuses: vec![],
                        lines: vec![],
                    });
                }
                b"REF" if value(&s, 1) == "EJ" => {
                    if let Some(c) = current.as_mut() {
                        c.patient_control_number = Some(value(&s, 2));
                    }
                }
                b"DTP" if value(&s, 1) == "472" => {
                    if let Some(c) = current.as_mut() {
                        let v = value(&s, 3);
                        c.service_from = ccyymmdd(&v);
                        c.service_to = v.get(9..).and_then(ccyymmdd);
                    }
                }
                _ => {}
            }
        }
        finish(current.take(), &mut response.claims);
        let state = self.state();
        for claim in &mut response.claims {
            let known = claim
                .patient_control_number
                .as_ref()
                .and_then(|pcn| state.claims.get(pcn));
            let (category, code, charge) = match known {
                Some((cat, code, charge, date)) => {
                    if claim.service_from.is_none() {
                        claim.service_from = *date;
                    }
                    (cat.clone(), code.clone(), *charge)
                }
                None => ("A4".into(), "35".into(), None),
            };
            claim.statuses.push(Status {
                category_code: category,
                category: None,
                status_code: Some(code),
                entity_code: None,
                code_list: None,
                effective_date: Some(today),
                total_charge: charge.or(Some(Decimal::ZERO)),
                paid: Some(Decimal::ZERO),
                message: None,
            });
            if claim.service_from.is_none() {
                claim.service_from = Some(today);
            }
        }
        drop(state);
        hms_domain::claim_status::status_277(&response, &partner, &envelope)
            .map_err(|e| format!("the simulator could not write its 277: {e}"))
    }
}

/// A member's plan: active coverage (or inactive), with the copay, deductible and coinsurance
/// the table gives, for the service types asked about (30 when none).
fn plan(m: &Member, asked: &[String]) -> PlanBenefits {
    let mut position = 0;
    let mut next = |code: &str,
                    amount: Option<Decimal>,
                    percent: Option<Decimal>,
                    period: Option<&str>,
                    level: Option<&str>| {
        let b = Benefit {
            position,
            code: code.into(),
            kind: None,
            coverage_level_code: level.map(str::to_string),
            coverage_level: None,
            in_network: amount.or(percent).map(|_| true),
            time_period_code: period.map(str::to_string),
            time_period: None,
            amount,
            percent,
            quantity: None,
            authorization_required: None,
            messages: vec![],
            dates: vec![],
        };
        position += 1;
        b
    };
    let mut plan_types = vec![];
    let general: Vec<String> = if asked.is_empty() {
        vec!["30".into()]
    } else {
        asked.to_vec()
    };
    let coverage = if m.active { "1" } else { "6" };
    let first = next(coverage, None, None, None, Some("IND"));
    for code in &general {
        plan_types.push(ServiceTypeBenefits {
            code: Some(code.clone()),
            name: None,
            benefits: vec![first.clone()],
        });
    }
    if m.active {
        let mut office = vec![];
        if let Some(copay) = m.copay {
            office.push(next("B", Some(copay), None, Some("27"), Some("IND")));
        }
        if let Some(co) = m.coinsurance {
            office.push(next("A", None, Some(co), None, Some("IND")));
        }
        if !office.is_empty() {
            plan_types.push(ServiceTypeBenefits {
                code: Some("98".into()),
                name: None,
                benefits: office,
            });
        }
        let mut deductible = vec![];
        if let Some(d) = m.deductible {
            deductible.push(next("C", Some(d), None, Some("23"), Some("IND")));
        }
        if let Some(d) = m.deductible_remaining {
            deductible.push(next("C", Some(d), None, Some("29"), Some("IND")));
        }
        if !deductible.is_empty() {
            plan_types.push(ServiceTypeBenefits {
                code: Some("30".into()),
                name: None,
                benefits: deductible,
            });
        }
    }
    PlanBenefits {
        plan: Some(m.plan.clone()),
        insurance_type: None,
        service_types: plan_types,
    }
}
