//! 835s written out as they are read: each claim payment serialized the moment the streaming
//! reader ([`super::Remittances`]) completes it, so a file of any size becomes JSON or FHIR
//! with one claim payment in memory at a time. A payer's monthly 835 for a hospital is
//! hundreds of megabytes; held whole, its model and JSON take tens of times that.
//!
//! Two framings: one JSON document (an array of payments, or a FHIR `Bundle`), written
//! incrementally and byte for byte what serializing the whole model writes; or NDJSON, one
//! record per line (for FHIR, one `ExplanationOfBenefit` per line, the form bulk FHIR
//! consumers take).

use std::io::{self, Read, Write};

use chrono::NaiveDate;
use hms_x12::spec::Catalog;
use serde::Serialize;

use super::{
    Balance, ClaimPayment, Party, Payment, ProviderAdjustment, RemitError, RemitEvent, Remittance,
    Remittances,
};

/// Why a streamed translation stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The input is not 835s that can be read (what [`super::read_835`] refuses).
    #[error(transparent)]
    Remit(#[from] RemitError),
    /// The output could not be written.
    #[error("writing the output: {0}")]
    Write(#[source] io::Error),
}

/// Reads the 835s of `input` segment by segment (a buffer of the longest segment, never the
/// whole input) and hands each event to `sink` as it completes: what every streamed
/// translation is built on. The events are the sink's to keep (or to send to another thread:
/// a writer on another core).
pub fn read_835_events<R: Read>(
    input: R,
    catalog: &Catalog,
    mut sink: impl FnMut(RemitEvent) -> io::Result<()>,
) -> Result<(), StreamError> {
    let mut reader = Remittances::new(catalog);
    let mut events = Vec::with_capacity(4);
    let mut segments = hms_x12::Reader::new(input);
    while let Some(next) = segments.next_segment() {
        let segment = next.map_err(|e| RemitError::X12(e.into()))?;
        reader.push(&segment, &mut events)?;
        for event in events.drain(..) {
            sink(event).map_err(StreamError::Write)?;
        }
    }
    reader.finish(&mut events)?;
    for event in events.drain(..) {
        sink(event).map_err(StreamError::Write)?;
    }
    Ok(())
}

/// How records are framed in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON document: the payments as an array, or the EOBs in a `Bundle`.
    Document,
    /// One record per line.
    Ndjson,
}

/// Appends `value` as JSON to `out`, as an I/O error when it cannot be serialized.
fn put<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> io::Result<()> {
    crate::json_out::append(out, value).map_err(io::Error::from)
}

/// A payment's opening, as one NDJSON record.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentRecord<'a> {
    record: &'static str,
    payment: &'a Payment,
    payer: &'a Party,
    payee: &'a Party,
}

/// A claim payment, as one NDJSON record: with the trace number of its payment.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClaimPaymentRecord<'a> {
    record: &'static str,
    trace_number: &'a str,
    claim_payment: &'a ClaimPayment,
}

/// A payment's end, as one NDJSON record.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentEndRecord<'a> {
    record: &'static str,
    trace_number: &'a str,
    provider_adjustments: &'a [ProviderAdjustment],
    balance: &'a Balance,
}

/// 835s written out as the reader gives its events, in our JSON ([`RemitWriter::json`]) or
/// FHIR ([`RemitWriter::fhir`]): the body of either is gathered in memory and passed on to
/// `out` 64 KiB at a time.
#[derive(Debug)]
pub struct RemitWriter<W: Write> {
    out: W,
    body: Body,
}

/// What a [`RemitWriter`] writes.
#[derive(Debug)]
enum Body {
    Json(JsonBody),
    Fhir(Box<FhirBody>),
}

/// How many bytes of output are gathered before they are written on.
const GATHER: usize = 1 << 16;

impl<W: Write> RemitWriter<W> {
    /// Our JSON of 835s, written as the reader gives its events.
    ///
    /// As a document it is exactly `serde_json::to_writer(&read_835(..))`: an array of
    /// [`Remittance`]s. As NDJSON each line is a record named by `record`: `payment` (BPR/TRN,
    /// payer, payee), `claimPayment` (one claim payment with its payment's `traceNumber`), and
    /// `paymentEnd` (PLB adjustments and the balance).
    pub fn json(out: W, framing: Framing) -> Self {
        Self {
            out,
            body: Body::Json(JsonBody::new(framing)),
        }
    }

    /// FHIR R4 for 835s: one `ExplanationOfBenefit` per claim payment made on `created`,
    /// numbered through the input (`eob-1`, `eob-2`, …), in a `Bundle` of type `collection`
    /// (exactly [`super::fhir::remittance_bundle`]'s) or one per line.
    pub fn fhir(out: W, framing: Framing, created: NaiveDate) -> Self {
        Self {
            out,
            body: Body::Fhir(Box::new(FhirBody::new(framing, created))),
        }
    }

    /// Writes what `event` completes.
    pub fn event(&mut self, event: &RemitEvent) -> io::Result<()> {
        let gathered = match &mut self.body {
            Body::Json(body) => {
                body.event(event)?;
                &mut body.out
            }
            Body::Fhir(body) => {
                body.event(event)?;
                &mut body.out
            }
        };
        pass_on(gathered, &mut self.out, GATHER)
    }

    /// Closes the document; the output.
    pub fn finish(mut self) -> io::Result<W> {
        match &mut self.body {
            Body::Json(body) => body.finish()?,
            Body::Fhir(body) => body.finish()?,
        }
        self.abandon()
    }

    /// Writes on what was gathered, leaving the document open (the input stopped midway);
    /// the output.
    pub fn abandon(mut self) -> io::Result<W> {
        let gathered = match &mut self.body {
            Body::Json(body) => &mut body.out,
            Body::Fhir(body) => &mut body.out,
        };
        pass_on(gathered, &mut self.out, 0)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes what `gathered` holds on to `out` once it holds at least `at` bytes.
fn pass_on<W: Write>(gathered: &mut Vec<u8>, out: &mut W, at: usize) -> io::Result<()> {
    if gathered.len() >= at.max(1) {
        out.write_all(gathered)?;
        gathered.clear();
    }
    Ok(())
}

/// The JSON of [`RemitWriter::json`], gathered in memory: serialized into a `Vec` by code that is
/// not generic over the output (so it is compiled with this crate's optimization and writes
/// are appends, not calls into the caller's writer for each key and value).
#[derive(Debug)]
struct JsonBody {
    out: Vec<u8>,
    framing: Framing,
    /// Payments begun.
    payments: usize,
    /// Claim payments written in the open payment.
    claims: usize,
    /// The open payment's trace number (NDJSON records carry it).
    trace_number: String,
}

impl JsonBody {
    fn new(framing: Framing) -> Self {
        Self {
            out: Vec::with_capacity(2 * GATHER),
            framing,
            payments: 0,
            claims: 0,
            trace_number: String::new(),
        }
    }

    fn event(&mut self, event: &RemitEvent) -> io::Result<()> {
        match (event, self.framing) {
            (RemitEvent::Begin(header), Framing::Document) => {
                let Remittance {
                    payment,
                    payer,
                    payee,
                    ..
                } = header.as_ref();
                self.out
                    .write_all(if self.payments == 0 { b"[" } else { b"," })?;
                self.out.write_all(b"{\"payment\":")?;
                put(&mut self.out, payment)?;
                self.out.write_all(b",\"payer\":")?;
                put(&mut self.out, payer)?;
                self.out.write_all(b",\"payee\":")?;
                put(&mut self.out, payee)?;
                self.out.write_all(b",\"claims\":[")?;
            }
            (RemitEvent::Begin(header), Framing::Ndjson) => {
                self.trace_number.clone_from(&header.payment.trace_number);
                put(
                    &mut self.out,
                    &PaymentRecord {
                        record: "payment",
                        payment: &header.payment,
                        payer: &header.payer,
                        payee: &header.payee,
                    },
                )?;
                self.out.write_all(b"\n")?;
            }
            (RemitEvent::Claim(claim), Framing::Document) => {
                if self.claims > 0 {
                    self.out.write_all(b",")?;
                }
                put(&mut self.out, claim.as_ref())?;
            }
            (RemitEvent::Claim(claim), Framing::Ndjson) => {
                put(
                    &mut self.out,
                    &ClaimPaymentRecord {
                        record: "claimPayment",
                        trace_number: &self.trace_number,
                        claim_payment: claim,
                    },
                )?;
                self.out.write_all(b"\n")?;
            }
            (RemitEvent::End(trailer), Framing::Document) => {
                self.out.write_all(b"],\"providerAdjustments\":")?;
                put(&mut self.out, &trailer.provider_adjustments)?;
                self.out.write_all(b",\"balance\":")?;
                put(&mut self.out, &trailer.balance)?;
                self.out.write_all(b"}")?;
            }
            (RemitEvent::End(trailer), Framing::Ndjson) => {
                put(
                    &mut self.out,
                    &PaymentEndRecord {
                        record: "paymentEnd",
                        trace_number: &self.trace_number,
                        provider_adjustments: &trailer.provider_adjustments,
                        balance: &trailer.balance,
                    },
                )?;
                self.out.write_all(b"\n")?;
            }
        }
        match event {
            RemitEvent::Begin(_) => {
                self.payments += 1;
                self.claims = 0;
            }
            RemitEvent::Claim(_) => self.claims += 1,
            RemitEvent::End(_) => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.framing == Framing::Document {
            self.out
                .write_all(if self.payments == 0 { b"[]" } else { b"]" })?;
        }
        Ok(())
    }
}

/// The FHIR of [`RemitWriter::fhir`], gathered in memory as [`JsonBody`] is.
#[derive(Debug)]
struct FhirBody {
    out: Vec<u8>,
    framing: Framing,
    created: NaiveDate,
    /// The open payment's header (its claims are empty): what each EOB names of it.
    header: Option<Remittance>,
    /// EOBs written.
    written: usize,
}

impl FhirBody {
    fn new(framing: Framing, created: NaiveDate) -> Self {
        Self {
            out: Vec::with_capacity(2 * GATHER),
            framing,
            created,
            header: None,
            written: 0,
        }
    }

    fn event(&mut self, event: &RemitEvent) -> io::Result<()> {
        match event {
            RemitEvent::Begin(header) => self.header = Some(header.as_ref().clone()),
            RemitEvent::Claim(claim) => {
                let Some(header) = &self.header else {
                    return Err(io::Error::other("a claim payment outside a payment"));
                };
                match self.framing {
                    Framing::Document => self.out.write_all(if self.written == 0 {
                        b"{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":"
                    } else {
                        b",{\"resource\":"
                    })?,
                    Framing::Ndjson => {}
                }
                let eob = super::fhir::Eob::new(header, claim, self.written, self.created);
                put(&mut self.out, &eob)?;
                self.out.write_all(match self.framing {
                    Framing::Document => b"}",
                    Framing::Ndjson => b"\n",
                })?;
                self.written += 1;
            }
            RemitEvent::End(_) => self.header = None,
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.framing == Framing::Document {
            self.out.write_all(if self.written == 0 {
                b"{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[]}"
            } else {
                b"]}"
            })?;
        }
        Ok(())
    }
}
