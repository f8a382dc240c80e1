//! An 837P (005010X222A1) or 837I (005010X223A2) read back into claims: one per claim (loop
//! 2300), with the parties of the loops above it (read by one piece of code for both). What the
//! model holds comes back as it was written; what it does not hold, a lossless read
//! (`crate::lossless`) keeps beside it.

use hms_x12::spec::Catalog;
use hms_x12::tree::{self, LoopNode, SegmentNode};

use crate::claims::claim::{Claim, ClaimKind};
use crate::claims::model::{
    Admission, Ambulance, AmbulanceCertification, ClaimAdjustment, ClaimInformation, CodedEvent,
    DiagnosisCodes, Drug, Header, InstitutionalClaim, InstitutionalClaimInformation,
    InstitutionalLine, LineAdjudication, OtherCoverage, Patient, ProfessionalClaim, Responsibility,
    ServiceLine, Stay, Subscriber, ValueCode,
};
use crate::handoff::Handoff;
use crate::ids::{MemberId, Npi, PatientControlNumber, PayerId, TaxId};
use crate::party::{
    Address, Contact, Gender, Name, Payer, PayerIdType, Provider, Receiver, Submitter, TaxIdType,
};
use crate::read::{
    ValueError, amount, bad, date, decimal, loops, missing_in, opt, parts, required, required_loop,
    segments, text,
};

/// Why an 837P could not be read into claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimReadError {
    /// The X12 did not tokenize.
    #[error(transparent)]
    X12(#[from] tree::TreeError),
    /// No 837P transaction set in the input.
    #[error("no 837 professional (005010X222) transaction set found")]
    No837P,
    /// No 837I transaction set in the input.
    #[error("no 837 institutional (005010X223) transaction set found")]
    No837I,
    /// A value is missing or malformed.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// One claim, with the loops above it, holds more segments than any claim may.
    #[error("line {line}: the claim holds more than {MAX_HELD_SEGMENTS} segments")]
    TooLarge {
        /// The segment number past the bound.
        line: usize,
    },
}

/// Reads every claim of every 837P transaction set in `input`.
pub fn read_837p(
    input: &[u8],
    catalog: &Catalog,
) -> Result<Vec<ProfessionalClaim>, ClaimReadError> {
    let doc = tree::parse(input, catalog)?;
    sets_claims(&doc, is_837p, transaction_claims)?.ok_or(ClaimReadError::No837P)
}

/// Reads every claim of every 837I transaction set in `input`.
pub fn read_837i(
    input: &[u8],
    catalog: &Catalog,
) -> Result<Vec<InstitutionalClaim>, ClaimReadError> {
    let doc = tree::parse(input, catalog)?;
    sets_claims(&doc, is_837i, institutional_claims)?.ok_or(ClaimReadError::No837I)
}

/// The patient control numbers (CLM01) of an 837's original claims (frequency `1`, CLM05-3),
/// read from its segments alone, without a guide: what a payer matches a second original
/// against. A replacement or void quotes its original's number on purpose, so it is left out.
pub fn original_claim_numbers(x12: &[u8]) -> Vec<String> {
    let segments: Vec<_> = hms_x12::Tokenizer::new(x12).flatten().collect();
    let component = segments
        .iter()
        .find(|s| s.id() == b"ISA")
        .and_then(|isa| isa.value(16).first().copied())
        .unwrap_or(b':');
    segments
        .iter()
        .filter(|s| s.id() == b"CLM")
        .filter(|s| s.value(5).split(|b| *b == component).nth(2) == Some(b"1"))
        .map(|s| String::from_utf8_lossy(s.value(1)).trim().to_string())
        .collect()
}

/// Reads every claim of `input`'s 837P and 837I transaction sets, in file order; an input
/// with neither is `No837P`. The claims of [`read_837_claims`], collected.
pub fn read_837(input: &[u8], catalog: &Catalog) -> Result<Vec<Claim>, ClaimReadError> {
    let mut claims = vec![];
    read_837_claims(input, catalog, |claim| {
        claims.push(claim);
        Ok::<(), std::convert::Infallible>(())
    })
    .map_err(|e| match e {
        ClaimStreamError::Read(e) => e,
        ClaimStreamError::Sink(never) => match never {},
    })?;
    Ok(claims)
}

/// Why a streamed 837 read stopped: the input, or the sink that takes its claims (`E`, an
/// output that could not be written).
#[derive(Debug, thiserror::Error)]
pub enum ClaimStreamError<E: std::error::Error + 'static = std::io::Error> {
    /// The input is not 837 claims that can be read.
    #[error(transparent)]
    Read(#[from] ClaimReadError),
    /// The sink could not take a claim.
    #[error("writing the output: {0}")]
    Sink(#[source] E),
}

impl<E: std::error::Error + 'static> From<tree::TreeError> for ClaimStreamError<E> {
    fn from(e: tree::TreeError) -> Self {
        Self::Read(ClaimReadError::X12(e))
    }
}

/// Reads the claims of every 837P and 837I transaction set of `input` segment by segment and
/// hands each to `sink` the moment its loop (2300) ends: a nightly batch of 50,000 claims is
/// read with one claim and the loops above it in memory, never the file or its tree.
///
/// The tree is built as [`tree::parse`] builds it, pruned: a claim loop is read with its
/// ancestors (the submitter, the billing provider, the subscriber, the patient) and dropped,
/// and a hierarchical level (2000A/B/C) is dropped when it ends, so what is held never grows
/// with the file. Each claim is read by the same code that reads a whole 837.
pub fn read_837_claims<R: std::io::Read, E: std::error::Error + 'static>(
    input: R,
    catalog: &Catalog,
    mut sink: impl FnMut(Claim) -> Result<(), E>,
) -> Result<(), ClaimStreamError<E>> {
    let mut pruned = Pruned::default();
    let mut cut = Cut::default();
    tree::read_steps(input, catalog, |step| match cut.piece(step) {
        Some(piece) => pruned.step(piece, &mut sink),
        None => Ok(()),
    })?;
    pruned.ended()
}

/// How pieces go from the reading thread to the assembling one: a few claims' segments at a
/// time, so a handover costs nothing per segment, with four handovers queued at most, which
/// bounds the segments in flight.
const PIECES: Handoff = Handoff {
    items: 512,
    in_flight: 4,
};

/// [`read_837_claims`] on two threads: this one tokenizes the input, places each segment in
/// its guide and copies its values out (half the work); a second one assembles the claim
/// loops, reads each claim and hands it to `sink`, which runs there. The claims, their
/// order, and what stops the read are [`read_837_claims`]'s; a sink that fails stops the
/// reading too, within the handovers in flight.
pub fn read_837_claims_beside<R: std::io::Read, E: std::error::Error + Send + 'static>(
    input: R,
    catalog: &Catalog,
    sink: impl FnMut(Claim) -> Result<(), E> + Send,
) -> Result<(), ClaimStreamError<E>> {
    /// Why the reading thread stopped.
    enum Stop {
        Input(tree::TreeError),
        /// The assembling thread stopped taking pieces (its result says why).
        Assembler,
    }
    impl From<tree::TreeError> for Stop {
        fn from(e: tree::TreeError) -> Self {
            Self::Input(e)
        }
    }
    let mut cut = Cut::default();
    let (read, assembled) = PIECES.run(
        (sink, Pruned::default()),
        |(sink, pruned), piece| pruned.step(piece, sink),
        |hand| {
            tree::read_steps(input, catalog, |step| match cut.piece(step) {
                Some(piece) => hand(piece).map_err(|_| Stop::Assembler),
                None => Ok(()),
            })
        },
    );
    let (_, pruned) = assembled?;
    match read {
        Err(Stop::Input(e)) => Err(e.into()),
        // Only a failed assembler stops taking pieces, and its failure was returned.
        Err(Stop::Assembler) | Ok(()) => pruned.ended(),
    }
}

/// One step of an 837's claim loops as the claim reader takes it, owned: what the reading
/// thread hands the assembling one (a segment's values already copied out of the input's
/// buffer).
#[derive(Debug)]
enum Piece {
    /// A transaction set opens: of claims of this kind (`None`: no 837), its root loop's name.
    Transaction(Option<ClaimKind>, String),
    /// A loop opens, by its guide id.
    Loop(String),
    Segment(SegmentNode),
    LoopEnd,
    TransactionEnd,
}

/// Cuts the tree's steps down to the pieces the claim reader takes: nothing outside an 837's
/// transaction sets is copied.
#[derive(Debug, Default)]
struct Cut {
    /// Whether the open transaction set is an 837.
    claims: bool,
}

impl Cut {
    fn piece(&mut self, step: tree::Step<'_, '_>) -> Option<Piece> {
        use tree::Step;
        match step {
            Step::TransactionStart(start) => {
                let kind = claim_kind(&start.id, start.guide.as_deref());
                self.claims = kind.is_some();
                Some(Piece::Transaction(kind, start.name))
            }
            _ if !self.claims => None,
            // The claim is read from loop ids and segment values: no name is copied.
            Step::LoopStart { id, .. } => Some(Piece::Loop(id.to_string())),
            Step::Segment(segment) => Some(Piece::Segment(segment.to_unnamed_node())),
            Step::LoopEnd => Some(Piece::LoopEnd),
            Step::TransactionEnd => {
                self.claims = false;
                Some(Piece::TransactionEnd)
            }
            _ => None,
        }
    }
}

/// The open loops of an 837 transaction set, each claim loop read and dropped as it ends.
#[derive(Debug, Default)]
struct Pruned {
    /// The kind of the open transaction set; `None` outside an 837.
    kind: Option<ClaimKind>,
    /// Open loops, the root first.
    stack: Vec<LoopNode>,
    /// Segments the open loops hold.
    held: usize,
    /// Whether any 837 transaction set was met.
    found: bool,
}

/// The most segments held at once: a claim with its loops above it. The largest the guides
/// allow (an 837I claim of 999 lines, every line with its optional segments) is about half
/// of it; an input past it would take memory in proportion to itself.
const MAX_HELD_SEGMENTS: usize = 50_000;

/// The segments of `scope` and the loops in it.
fn segments_in(scope: &LoopNode) -> usize {
    scope
        .content
        .iter()
        .map(|item| match item {
            tree::Item::Segment(_) => 1,
            tree::Item::Loop(inner) => segments_in(inner),
        })
        .sum()
}

impl Pruned {
    /// The end of the input: `No837P` when no 837 transaction set was met.
    fn ended<E: std::error::Error + 'static>(&self) -> Result<(), ClaimStreamError<E>> {
        if self.found {
            Ok(())
        } else {
            Err(ClaimReadError::No837P.into())
        }
    }

    fn step<E: std::error::Error + 'static>(
        &mut self,
        piece: Piece,
        sink: &mut impl FnMut(Claim) -> Result<(), E>,
    ) -> Result<(), ClaimStreamError<E>> {
        use tree::Item;
        match piece {
            Piece::Transaction(kind, name) => {
                self.kind = kind;
                self.found |= self.kind.is_some();
                self.stack.clear();
                self.held = 0;
                if self.kind.is_some() {
                    self.stack.push(LoopNode {
                        id: "ST".into(),
                        name,
                        content: vec![],
                    });
                }
            }
            _ if self.kind.is_none() => {}
            Piece::Loop(id) => self.stack.push(LoopNode {
                id,
                name: String::new(),
                content: vec![],
            }),
            Piece::Segment(segment) => {
                self.held += 1;
                if self.held > MAX_HELD_SEGMENTS {
                    return Err(ClaimReadError::TooLarge { line: segment.line }.into());
                }
                if let Some(top) = self.stack.last_mut() {
                    top.content.push(Item::Segment(segment));
                }
            }
            Piece::LoopEnd if self.stack.len() > 1 => {
                let Some(done) = self.stack.pop() else {
                    return Ok(());
                };
                let dropped = done.id == "2300" || done.id.starts_with("2000");
                if dropped {
                    self.held = self.held.saturating_sub(segments_in(&done));
                }
                if done.id == "2300" {
                    if let Some(claim) = self.read(done).map_err(ClaimReadError::from)? {
                        sink(claim).map_err(ClaimStreamError::Sink)?;
                    }
                } else if !dropped && let Some(parent) = self.stack.last_mut() {
                    parent.content.push(Item::Loop(done));
                }
            }
            Piece::TransactionEnd => {
                self.stack.clear();
                self.kind = None;
            }
            Piece::LoopEnd => {}
        }
        Ok(())
    }

    /// The claim of `claim_loop` read with the open loops above it: the loops are nested
    /// into one pruned transaction set (each the last item of its parent), read by the code
    /// that reads a whole one, and taken apart again.
    fn read(&mut self, claim_loop: LoopNode) -> Result<Option<Claim>, ValueError> {
        use tree::Item;
        let depth = self.stack.len();
        if let Some(parent) = self.stack.last_mut() {
            parent.content.push(Item::Loop(claim_loop));
        }
        while self.stack.len() > 1 {
            if let Some(child) = self.stack.pop()
                && let Some(parent) = self.stack.last_mut()
            {
                parent.content.push(Item::Loop(child));
            }
        }
        let read = match (self.stack.first(), self.kind) {
            (Some(body), Some(ClaimKind::Professional)) => {
                the_claim(body, claim).map(|c| c.map(Claim::from))
            }
            (Some(body), Some(ClaimKind::Institutional)) => {
                the_claim(body, institutional_claim).map(|c| c.map(Claim::from))
            }
            _ => Ok(None),
        };
        // Taken apart: each open loop is the last item of its parent; the claim loop, last
        // of all, is dropped.
        while self.stack.len() < depth + 1 {
            let Some(Item::Loop(child)) = self.stack.last_mut().and_then(|l| l.content.pop())
            else {
                break;
            };
            self.stack.push(child);
        }
        self.stack.truncate(depth);
        read
    }
}

/// The claims of every transaction set of `doc` that `wanted` picks, each read by `read`;
/// `None` when it picks none.
fn sets_claims<C>(
    doc: &tree::Document,
    wanted: fn(&tree::TransactionNode) -> bool,
    read: fn(&LoopNode) -> Result<Vec<C>, ValueError>,
) -> Result<Option<Vec<C>>, ClaimReadError> {
    let sets = crate::read::transactions(doc, wanted);
    if sets.is_empty() {
        return Ok(None);
    }
    let mut claims = vec![];
    for (_, _, tx) in sets {
        claims.extend(read(&tx.body)?);
    }
    Ok(Some(claims))
}

/// Whether `tx` is an 837P (by its guide, so 005010X222A1 and its errata).
pub(crate) fn is_837p(tx: &tree::TransactionNode) -> bool {
    claim_kind(&tx.id, tx.guide.as_deref()) == Some(ClaimKind::Professional)
}

/// The kind of claims a transaction set (ST01, and its guide's version) holds, by its guide
/// (so the base guides and their errata alike); `None` when it is no 837.
fn claim_kind(id: &str, guide: Option<&str>) -> Option<ClaimKind> {
    let guide = guide.unwrap_or_default();
    match id {
        "837" if guide.starts_with("005010X222") => Some(ClaimKind::Professional),
        "837" if guide.starts_with("005010X223") => Some(ClaimKind::Institutional),
        _ => None,
    }
}

/// The claims of one 837P transaction set, in file order.
pub(crate) fn transaction_claims(body: &LoopNode) -> Result<Vec<ProfessionalClaim>, ValueError> {
    claims_with(body, claim)
}

/// The claims of one 837I transaction set, in file order.
pub(crate) fn institutional_claims(body: &LoopNode) -> Result<Vec<InstitutionalClaim>, ValueError> {
    claims_with(body, institutional_claim)
}

/// Whether `tx` is an 837I (by its guide, so 005010X223A2 and its errata).
pub(crate) fn is_837i(tx: &tree::TransactionNode) -> bool {
    claim_kind(&tx.id, tx.guide.as_deref()) == Some(ClaimKind::Institutional)
}

/// Reads a claim loop (2300 and below) into a claim with `header` (the parties above it) and
/// whether the transaction set reports encounters (BHT06 `RP`).
type ClaimLoop<C> = fn(&LoopNode, Header, bool) -> Result<C, ValueError>;

/// Whether the transaction set reports encounters (BHT06 `RP`) rather than claims.
fn encounters(body: &LoopNode) -> bool {
    segments(body, "BHT")
        .next()
        .is_some_and(|b| text(b, 6) == "RP")
}

/// The submitter (1000A) and the receiver (1000B).
fn senders(body: &LoopNode) -> Result<(Submitter, Receiver), ValueError> {
    let submitter_loop = required_loop(body, "1000A")?;
    let submitter_nm1 = required(submitter_loop, "NM1")?;
    let per = required(submitter_loop, "PER")?;
    let contact_of = |qualifier: &str| {
        [3, 5, 7]
            .iter()
            .find(|&&n| text(per, n) == qualifier)
            .and_then(|&n| opt(per, n + 1))
    };
    let submitter = Submitter {
        name: text(submitter_nm1, 3).to_string(),
        id: text(submitter_nm1, 9).to_string(),
        contact: Contact {
            name: text(per, 2).to_string(),
            phone: contact_of("TE"),
            email: contact_of("EM"),
        },
    };
    let receiver_nm1 = required_loop(body, "1000B").and_then(|l| required(l, "NM1"))?;
    let receiver = Receiver {
        name: text(receiver_nm1, 3).to_string(),
        id: text(receiver_nm1, 9).to_string(),
    };
    Ok((submitter, receiver))
}

/// The billing provider of a billing level (2000A), and its pay-to address.
fn billing(billing_level: &LoopNode) -> Result<(Provider, Option<Address>), ValueError> {
    let billing_loop = required_loop(billing_level, "2010AA")?;
    let mut billing_provider = provider(billing_loop)?;
    billing_provider.taxonomy = segments(billing_level, "PRV")
        .next()
        .and_then(|p| opt(p, 3));
    let pay_to_address = match loops(billing_level, "2010AB").next() {
        Some(l) => address(l)?,
        None => None,
    };
    Ok((billing_provider, pay_to_address))
}

/// The subscriber of a subscriber level (2000B), and the payer.
fn insured(subscriber_level: &LoopNode) -> Result<(Subscriber, Payer), ValueError> {
    let sbr = required(subscriber_level, "SBR")?;
    let sub_loop = required_loop(subscriber_level, "2010BA")?;
    let sub_nm1 = required(sub_loop, "NM1")?;
    let dmg = segments(sub_loop, "DMG").next();
    let subscriber = Subscriber {
        member_id: id_of(sub_nm1, 9, MemberId::parse)?,
        name: name(sub_nm1),
        address: address(sub_loop)?,
        birth_date: match dmg {
            Some(d) => date(d, 2)?,
            None => None,
        },
        gender: dmg.and_then(|d| gender(text(d, 3))),
        group_number: opt(sbr, 3),
        responsibility: responsibility(text(sbr, 1)),
        claim_filing_indicator: text(sbr, 9).to_string(),
    };
    let payer_nm1 = required_loop(subscriber_level, "2010BB").and_then(|l| required(l, "NM1"))?;
    Ok((subscriber, payer(payer_nm1)?))
}

/// The patient of a patient level (2000C), who is not the subscriber.
fn patient(patient_level: &LoopNode) -> Result<Patient, ValueError> {
    let pat = required(patient_level, "PAT")?;
    let patient_loop = required_loop(patient_level, "2010CA")?;
    let nm1 = required(patient_loop, "NM1")?;
    let dmg = required(patient_loop, "DMG")?;
    Ok(Patient {
        relationship: text(pat, 1).to_string(),
        name: name(nm1),
        address: address(patient_loop)?.ok_or_else(|| missing_in(patient_loop, "N3/N4"))?,
        birth_date: date(dmg, 2)?
            .ok_or_else(|| bad(dmg, 2, "the birth date is required".into()))?,
        gender: gender(text(dmg, 3)).ok_or_else(|| bad(dmg, 3, "the gender is required".into()))?,
    })
}

/// The claims of one 837 transaction set (professional or institutional: the loops above the
/// claim are the same), each claim loop read by `read_claim` with its own copy of the parties
/// above it.
fn claims_with<C>(body: &LoopNode, read_claim: ClaimLoop<C>) -> Result<Vec<C>, ValueError> {
    let mut claims = vec![];
    let encounter = encounters(body);
    let (submitter, receiver) = senders(body)?;
    for billing_level in loops(body, "2000A") {
        let (billing_provider, pay_to_address) = billing(billing_level)?;
        for subscriber_level in loops(billing_level, "2000B") {
            let (subscriber, payer) = insured(subscriber_level)?;
            let header = |patient: Option<&Patient>| Header {
                submitter: submitter.clone(),
                receiver: receiver.clone(),
                billing_provider: billing_provider.clone(),
                pay_to_address: pay_to_address.clone(),
                subscriber: subscriber.clone(),
                patient: patient.cloned(),
                payer: payer.clone(),
            };
            for claim_loop in loops(subscriber_level, "2300") {
                claims.push(read_claim(claim_loop, header(None), encounter)?);
            }
            for patient_level in loops(subscriber_level, "2000C") {
                let patient = patient(patient_level)?;
                for claim_loop in loops(patient_level, "2300") {
                    claims.push(read_claim(claim_loop, header(Some(&patient)), encounter)?);
                }
            }
        }
    }
    Ok(claims)
}

/// The one claim of a pruned transaction set, as [`Pruned`] nests it (one open loop of each
/// level above the claim loop), read as [`claims_with`] reads it, with the parties above it
/// moved into the claim rather than copied.
fn the_claim<C>(body: &LoopNode, read_claim: ClaimLoop<C>) -> Result<Option<C>, ValueError> {
    let encounter = encounters(body);
    let (submitter, receiver) = senders(body)?;
    let Some(billing_level) = loops(body, "2000A").next() else {
        return Ok(None);
    };
    let (billing_provider, pay_to_address) = billing(billing_level)?;
    let Some(subscriber_level) = loops(billing_level, "2000B").next() else {
        return Ok(None);
    };
    let (subscriber, payer) = insured(subscriber_level)?;
    let (claim_loop, patient) = match loops(subscriber_level, "2300").next() {
        Some(claim_loop) => (claim_loop, None),
        None => {
            let Some(patient_level) = loops(subscriber_level, "2000C").next() else {
                return Ok(None);
            };
            let patient = patient(patient_level)?;
            let Some(claim_loop) = loops(patient_level, "2300").next() else {
                return Ok(None);
            };
            (claim_loop, Some(patient))
        }
    };
    let header = Header {
        submitter,
        receiver,
        billing_provider,
        pay_to_address,
        subscriber,
        patient,
        payer,
    };
    read_claim(claim_loop, header, encounter).map(Some)
}

fn payer(nm1: &SegmentNode) -> Result<Payer, ValueError> {
    Ok(Payer {
        name: text(nm1, 3).to_string(),
        id: id_of(nm1, 9, PayerId::parse)?,
        // Said only when not the usual payer id (PI).
        id_type: PayerIdType::from_code(text(nm1, 8)).filter(|t| *t != PayerIdType::PayerId),
    })
}

fn id_of<T, E: std::fmt::Display>(
    segment: &SegmentNode,
    n: usize,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, ValueError> {
    parse(text(segment, n)).map_err(|e| bad(segment, n, e.to_string()))
}

pub(crate) fn name(nm1: &SegmentNode) -> Name {
    if text(nm1, 2) == "1" {
        Name::Person {
            last: text(nm1, 3).to_string(),
            first: text(nm1, 4).to_string(),
            middle: opt(nm1, 5),
            suffix: opt(nm1, 7),
        }
    } else {
        Name::Organization {
            name: text(nm1, 3).to_string(),
        }
    }
}

fn address(scope: &LoopNode) -> Result<Option<Address>, ValueError> {
    let (Some(n3), Some(n4)) = (segments(scope, "N3").next(), segments(scope, "N4").next()) else {
        return Ok(None);
    };
    Ok(Some(Address {
        lines: [1, 2].iter().filter_map(|&n| opt(n3, n)).collect(),
        city: text(n4, 1).to_string(),
        state: text(n4, 2).to_string(),
        postal_code: text(n4, 3).to_string(),
    }))
}

fn gender(code: &str) -> Option<Gender> {
    match code {
        "F" => Some(Gender::Female),
        "M" => Some(Gender::Male),
        "U" => Some(Gender::Unknown),
        _ => None,
    }
}

fn responsibility(code: &str) -> Responsibility {
    match code {
        "S" => Responsibility::Secondary,
        "T" => Responsibility::Tertiary,
        _ => Responsibility::Primary,
    }
}

fn provider(scope: &LoopNode) -> Result<Provider, ValueError> {
    let nm1 = required(scope, "NM1")?;
    let tax_ref = segments(scope, "REF").find(|r| TaxIdType::from_code(text(r, 1)).is_some());
    let tax_id = match tax_ref {
        Some(r) => Some(id_of(r, 2, TaxId::parse)?),
        None => None,
    };
    let name = name(nm1);
    // Said only when not what the name implies (an SSN for a person, an EIN otherwise).
    let implied = match name {
        Name::Person { .. } => TaxIdType::Ssn,
        Name::Organization { .. } => TaxIdType::Ein,
    };
    Ok(Provider {
        npi: match opt::<String>(nm1, 9) {
            Some(_) => Some(id_of(nm1, 9, Npi::parse)?),
            None => None,
        },
        name,
        taxonomy: segments(scope, "PRV").next().and_then(|p| opt(p, 3)),
        tax_id,
        tax_id_type: tax_ref
            .and_then(|r| TaxIdType::from_code(text(r, 1)))
            .filter(|t| *t != implied),
        address: address(scope)?,
    })
}

fn adjustments(scope: &LoopNode) -> Result<Vec<ClaimAdjustment>, ValueError> {
    let mut out = vec![];
    for cas in segments(scope, "CAS") {
        out.extend(
            crate::read::cas_reasons(cas)?
                .into_iter()
                .map(|r| ClaimAdjustment {
                    group: r.group.to_string(),
                    reason: r.reason.to_string(),
                    amount: r.amount,
                    quantity: r.quantity,
                }),
        );
    }
    Ok(out)
}

/// The value of the claim's REF with `qualifier`.
fn reference(scope: &LoopNode, qualifier: &str) -> Option<String> {
    segments(scope, "REF")
        .find(|r| text(r, 1) == qualifier)
        .and_then(|r| opt(r, 2))
}

/// The date of the DTP with `qualifier` (the first day, for a range: the model holds one date of
/// service per line today).
fn dated(scope: &LoopNode, qualifier: &str) -> Result<Option<chrono::NaiveDate>, ValueError> {
    Ok(dated_range(scope, qualifier)?.map(|(from, _)| from))
}

/// A DTP's date, or its range's first and last dates.
fn dated_range(
    scope: &LoopNode,
    qualifier: &str,
) -> Result<Option<(chrono::NaiveDate, Option<chrono::NaiveDate>)>, ValueError> {
    match segments(scope, "DTP").find(|d| text(d, 1) == qualifier) {
        Some(d) => crate::read::period(d).map(|(_, from, to)| Some((from, to))),
        None => Ok(None),
    }
}

fn claim(
    scope: &LoopNode,
    header: Header,
    encounter: bool,
) -> Result<ProfessionalClaim, ValueError> {
    let clm = required(scope, "CLM")?;
    let facility = parts(clm, 5);
    let related = parts(clm, 11);
    let coded: Vec<_> = segments(scope, "HI")
        .flat_map(|hi| (1..=12).map(move |n| parts(hi, n)))
        .filter(|p| matches!(p.first().copied(), Some("ABK" | "ABF" | "BK" | "BF")))
        .collect();
    // A claim without a readable diagnosis is still read: the scrubber reports it.
    let diagnosis_codes = match coded.first().and_then(|p| p.first()) {
        Some(&"BK") => DiagnosisCodes::Icd9Cm,
        _ => DiagnosisCodes::Icd10Cm,
    };
    let diagnoses = coded
        .iter()
        .filter_map(|p| p.get(1).map(|c| c.to_string()))
        .collect();
    let ambulance = ambulance(scope)?;
    let service_lines = loops(scope, "2400")
        .map(service_line)
        .collect::<Result<_, _>>()?;
    let provider_in = |id: &str| loops(scope, id).next().map(provider).transpose();
    let info = ClaimInformation {
        patient_control_number: id_of(clm, 1, PatientControlNumber::parse)?,
        total_charge: amount(clm, 2)?,
        place_of_service: facility.first().map(|c| c.to_string()).unwrap_or_default(),
        frequency: facility.get(2).map(|c| c.to_string()).unwrap_or_default(),
        provider_signature_on_file: text(clm, 6) == "Y",
        assignment: text(clm, 7).to_string(),
        benefits_assigned: text(clm, 8) == "Y",
        release_of_information: text(clm, 9).to_string(),
        onset_date: dated(scope, "431")?,
        accident_date: dated(scope, "439")?,
        prior_authorization: reference(scope, "G1"),
        related_causes: related
            .iter()
            .take(3)
            .filter(|c| !c.is_empty())
            .map(|c| c.to_string())
            .collect(),
        accident_state: related
            .get(3)
            .filter(|s| !s.is_empty())
            .map(|s| s.to_string()),
        hospitalization: dated(scope, "435")?.map(|admitted| Stay {
            admitted,
            discharged: None,
        }),
        patient_paid: segments(scope, "AMT")
            .find(|a| text(a, 1) == "F5")
            .map(|a| amount(a, 2))
            .transpose()?,
        referral_number: reference(scope, "9F"),
        payer_claim_number: reference(scope, "F8"),
        diagnoses,
        diagnosis_codes,
        encounter,
    };
    let mut claim = ProfessionalClaim::new(header, info, service_lines);
    claim.rendering_provider = provider_in("2310B")?;
    claim.referring_provider = provider_in("2310A")?;
    claim.supervising_provider = provider_in("2310D")?;
    if let Some(stay) = claim.claim.hospitalization.as_mut() {
        stay.discharged = dated(scope, "096")?;
    }
    claim.ambulance = ambulance;
    claim.other_coverage = other_coverage(scope, clm)?;
    Ok(claim)
}

/// The ambulance transport of a claim loop (CR1, CRC, loops 2310E and 2310F), when it has one.
fn ambulance(scope: &LoopNode) -> Result<Option<Ambulance>, ValueError> {
    Ok(match segments(scope, "CR1").next() {
        Some(cr1) => {
            let place = |id: &str| {
                loops(scope, id)
                    .next()
                    .map(address)
                    .transpose()
                    .map(Option::flatten)
            };
            let dropoff_name = loops(scope, "2310F")
                .next()
                .and_then(|l| segments(l, "NM1").next())
                .and_then(|n| opt(n, 3));
            let certifications = segments(scope, "CRC")
                .filter(|c| text(c, 1) == "07")
                .map(|c| AmbulanceCertification {
                    applies: text(c, 2) == "Y",
                    conditions: (3..=7).filter_map(|n| opt(c, n)).collect(),
                })
                .collect();
            match (place("2310E")?, place("2310F")?) {
                (Some(pickup), Some(dropoff)) => Some(Ambulance {
                    patient_weight_pounds: decimal(cr1, 2)?,
                    reason: text(cr1, 4).to_string(),
                    miles: amount(cr1, 6)?,
                    round_trip_purpose: opt(cr1, 9),
                    stretcher_purpose: opt(cr1, 10),
                    certifications,
                    pickup,
                    dropoff,
                    dropoff_name,
                }),
                _ => None,
            }
        }
        None => None,
    })
}

/// One professional line (2400), with its drug (2410) and prior payers' adjudications (2430).
fn service_line(line: &LoopNode) -> Result<ServiceLine, ValueError> {
    let sv1 = required(line, "SV1")?;
    let procedure = parts(sv1, 1);
    let drug = match loops(line, "2410").next() {
        Some(d) => {
            let lin = required(d, "LIN")?;
            let ctp = required(d, "CTP")?;
            Some(Drug {
                ndc: text(lin, 3).to_string(),
                quantity: amount(ctp, 4)?,
                unit: text(ctp, 5).to_string(),
            })
        }
        None => None,
    };
    let mut prior_adjudications = vec![];
    for adj in loops(line, "2430") {
        let svd = required(adj, "SVD")?;
        let code = parts(svd, 3).get(1).map(|c| c.to_string());
        prior_adjudications.push(LineAdjudication {
            payer_id: id_of(svd, 1, PayerId::parse)?,
            paid: amount(svd, 2)?,
            procedure_code: code.filter(|c| procedure.get(1) != Some(&c.as_str())),
            units: amount(svd, 5)?,
            adjudication_date: dated(adj, "573")?.ok_or_else(|| missing_in(adj, "DTP*573"))?,
            adjustments: adjustments(adj)?,
        });
    }
    let (service_date, service_date_end) =
        dated_range(line, "472")?.ok_or_else(|| missing_in(line, "DTP*472"))?;
    Ok(ServiceLine {
        procedure_code: procedure.get(1).map(|c| c.to_string()).unwrap_or_default(),
        modifiers: procedure
            .iter()
            .skip(2)
            .filter(|m| !m.is_empty())
            .map(|m| m.to_string())
            .collect(),
        charge: amount(sv1, 2)?,
        units: amount(sv1, 4)?,
        service_date,
        service_date_end,
        diagnosis_pointers: parts(sv1, 7)
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect(),
        place_of_service: opt(sv1, 5),
        line_control_number: segments(line, "REF")
            .find(|r| text(r, 1) == "6R")
            .and_then(|r| opt(r, 2)),
        patient_count: match segments(line, "QTY").find(|q| text(q, 1) == "PT") {
            Some(q) => decimal(q, 2)?,
            None => None,
        },
        drug,
        prior_adjudications,
    })
}

/// Loops 2320-2330B: the other payers of a claim whose CLM is `clm`.
fn other_coverage(scope: &LoopNode, clm: &SegmentNode) -> Result<Vec<OtherCoverage>, ValueError> {
    let mut other_coverage = vec![];
    for other in loops(scope, "2320") {
        let sbr = required(other, "SBR")?;
        let sub = required_loop(other, "2330A")?;
        let sub_nm1 = required(sub, "NM1")?;
        let payer_loop = required_loop(other, "2330B")?;
        let payer_nm1 = required(payer_loop, "NM1")?;
        let oi = segments(other, "OI").next();
        other_coverage.push(OtherCoverage {
            responsibility: responsibility(text(sbr, 1)),
            relationship: text(sbr, 2).to_string(),
            group_number: opt(sbr, 3),
            claim_filing_indicator: text(sbr, 9).to_string(),
            subscriber_name: name(sub_nm1),
            member_id: id_of(sub_nm1, 9, MemberId::parse)?,
            payer: payer(payer_nm1)?,
            // Said only when they differ from the claim's (CLM08, CLM09).
            benefits_assigned: oi
                .map(|o| text(o, 3) == "Y")
                .filter(|b| *b != (text(clm, 8) == "Y")),
            release_of_information: oi.and_then(|o| opt(o, 6)).filter(|r| r != text(clm, 9)),
            paid: match segments(other, "AMT").find(|a| text(a, 1) == "D") {
                Some(a) => decimal(a, 2)?,
                None => None,
            },
            adjudication_date: dated(payer_loop, "573")?,
            adjustments: adjustments(other)?,
        });
    }
    Ok(other_coverage)
}

/// Loop 2300 of an 837I and everything below it.
fn institutional_claim(
    scope: &LoopNode,
    header: Header,
    // Institutional claims are not reported as encounters (the model has no flag for it).
    _encounter: bool,
) -> Result<InstitutionalClaim, ValueError> {
    let clm = required(scope, "CLM")?;
    let facility = parts(clm, 5);
    let codes: Vec<Vec<&str>> = segments(scope, "HI")
        .flat_map(|hi| (1..=12).map(move |n| parts(hi, n)))
        .filter(|p| !p.is_empty())
        .collect();
    let with = |qualifiers: [&'static str; 2]| {
        codes
            .iter()
            .filter(move |p| p.first().is_some_and(|q| qualifiers.contains(q)))
    };
    let code_of = |p: &Vec<&str>| p.get(1).map(|c| c.to_string()).unwrap_or_default();
    let event = |p: &Vec<&str>| -> Result<CodedEvent, ValueError> {
        let text = p.get(3).copied().unwrap_or_default();
        Ok(CodedEvent {
            code: code_of(p),
            date: crate::read::ccyymmdd(text)
                .ok_or_else(|| bad(clm, 0, format!("HI date {text:?} is not a CCYYMMDD date")))?,
        })
    };
    let diagnosis_codes = match with(["BK", "BK"]).next() {
        Some(_) => DiagnosisCodes::Icd9Cm,
        None => DiagnosisCodes::Icd10Cm,
    };
    let principal_procedure = match with(["BBR", "BR"]).next() {
        Some(p) => Some(event(p)?),
        None => None,
    };
    let statement = dated_range(scope, "434")?.ok_or_else(|| missing_in(scope, "DTP*434"))?;
    let admission = admission(scope)?;
    let service_lines = loops(scope, "2400")
        .map(institutional_line)
        .collect::<Result<_, _>>()?;
    let provider_in = |id: &str| loops(scope, id).next().map(provider).transpose();
    let info = InstitutionalClaimInformation {
        patient_control_number: id_of(clm, 1, PatientControlNumber::parse)?,
        total_charge: amount(clm, 2)?,
        facility_type: facility.first().map(|c| c.to_string()).unwrap_or_default(),
        frequency: facility.get(2).map(|c| c.to_string()).unwrap_or_default(),
        assignment: text(clm, 7).to_string(),
        benefits_assignment: text(clm, 8).to_string(),
        release_of_information: text(clm, 9).to_string(),
        statement_from: statement.0,
        statement_to: statement.1.unwrap_or(statement.0),
        admission,
        discharge_hour: segments(scope, "DTP")
            .find(|d| text(d, 1) == "096")
            .and_then(|d| opt(d, 3)),
        patient_status: segments(scope, "CL1")
            .next()
            .map(|c| text(c, 3).to_string())
            .unwrap_or_default(),
        prior_authorization: reference(scope, "G1"),
        referral_number: reference(scope, "9F"),
        payer_claim_number: reference(scope, "F8"),
        principal_diagnosis: with(["ABK", "BK"]).next().map(code_of).unwrap_or_default(),
        admitting_diagnosis: with(["ABJ", "BJ"]).next().map(code_of),
        other_diagnoses: with(["ABF", "BF"]).map(code_of).collect(),
        diagnosis_codes,
        principal_procedure,
        other_procedures: with(["BBQ", "BQ"]).map(event).collect::<Result<_, _>>()?,
        occurrences: with(["BH", "BH"]).map(event).collect::<Result<_, _>>()?,
        values: with(["BE", "BE"])
            .map(|p| {
                let value = p.get(4).copied().unwrap_or_default();
                Ok(ValueCode {
                    code: code_of(p),
                    amount: value.parse().map_err(|_| {
                        bad(clm, 0, format!("HI value amount {value:?} is not a number"))
                    })?,
                })
            })
            .collect::<Result<_, ValueError>>()?,
        conditions: with(["BG", "BG"]).map(code_of).collect(),
    };
    let mut claim = InstitutionalClaim::new(header, info, service_lines);
    claim.attending_provider = provider_in("2310A")?;
    claim.operating_provider = provider_in("2310B")?;
    claim.other_coverage = other_coverage(scope, clm)?;
    Ok(claim)
}

/// The admission of an institutional claim loop (DTP*435 and CL1), when it has one.
fn admission(scope: &LoopNode) -> Result<Option<Admission>, ValueError> {
    Ok(match segments(scope, "DTP").find(|d| text(d, 1) == "435") {
        Some(dtp) => {
            let value = text(dtp, 3);
            let (date, hour) = match (text(dtp, 2), value.len()) {
                ("DT", 12) => (value.get(..8), value.get(8..).map(str::to_string)),
                _ => (Some(value), None),
            };
            let cl1 = segments(scope, "CL1").next();
            Some(Admission {
                date: date
                    .and_then(crate::read::ccyymmdd)
                    .ok_or_else(|| bad(dtp, 3, format!("{value:?} is not an admission date")))?,
                hour,
                type_code: cl1.map(|c| text(c, 1).to_string()).unwrap_or_default(),
                source_code: cl1.and_then(|c| opt(c, 2)),
            })
        }
        None => None,
    })
}

/// One institutional line (2400).
fn institutional_line(line: &LoopNode) -> Result<InstitutionalLine, ValueError> {
    let sv2 = required(line, "SV2")?;
    let procedure = parts(sv2, 2);
    Ok(InstitutionalLine {
        revenue_code: text(sv2, 1).to_string(),
        procedure_code: procedure.get(1).map(|c| c.to_string()),
        modifiers: procedure
            .iter()
            .skip(2)
            .filter(|m| !m.is_empty())
            .map(|m| m.to_string())
            .collect(),
        charge: amount(sv2, 3)?,
        unit: text(sv2, 4).to_string(),
        quantity: amount(sv2, 5)?,
        service_date: dated(line, "472")?,
        line_control_number: segments(line, "REF")
            .find(|r| text(r, 1) == "6R")
            .and_then(|r| opt(r, 2)),
    })
}
