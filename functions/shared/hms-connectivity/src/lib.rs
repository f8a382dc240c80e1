//! CAQH CORE Connectivity (rule version 2.2.0): the SOAP 1.2 envelopes payers and
//! clearinghouses exchange X12 in. Real-time requests (270, 276) carry their X12 inline and get
//! it back inline; batches (837) carry it base64-encoded with its length and SHA-1 checksum,
//! and their acknowledgments (999, 277CA) are fetched with a results retrieval. Both our payer
//! gateway and the payer simulator read and write these with this module, so the two sides
//! cannot drift apart.

use std::fmt::Write as _;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};

/// The SOAP 1.2 namespace.
pub const SOAP_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// The namespace of the CORE envelope elements.
pub const CORE_NS: &str = "http://www.caqh.org/SOAP/WSDL/CORERule2.2.0.xsd";
/// WS-Security (the UsernameToken CORE allows for authentication).
pub const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// The rule version we speak.
pub const RULE_VERSION: &str = "2.2.0";

/// The largest envelope read, in bytes. A CORE batch carries its X12 in base64 inside the
/// envelope, so this bounds a batch at about 12 MiB of X12 (`hms_x12`'s own interchange limit
/// is larger; the payer's answer is what is read here).
pub const MAX_ENVELOPE_BYTES: usize = 16 * 1024 * 1024;

/// The deepest nesting of elements read. A CORE envelope is six deep; anything far deeper is
/// hostile, and is refused before a tree is built.
pub const MAX_DEPTH: usize = 64;

/// The most XML nodes read: a CORE envelope has a few dozen.
const MAX_NODES: u32 = 10_000;

/// Which CORE message an envelope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// `COREEnvelopeRealTimeRequest`.
    RealTimeRequest,
    /// `COREEnvelopeRealTimeResponse`.
    RealTimeResponse,
    /// `COREEnvelopeBatchSubmission`.
    BatchSubmission,
    /// `COREEnvelopeBatchSubmissionResponse`.
    BatchSubmissionResponse,
    /// `COREEnvelopeBatchResultsRetrievalRequest`.
    BatchResultsRetrievalRequest,
    /// `COREEnvelopeBatchResultsRetrievalResponse`.
    BatchResultsRetrievalResponse,
}

impl MessageKind {
    const ALL: [MessageKind; 6] = [
        Self::RealTimeRequest,
        Self::RealTimeResponse,
        Self::BatchSubmission,
        Self::BatchSubmissionResponse,
        Self::BatchResultsRetrievalRequest,
        Self::BatchResultsRetrievalResponse,
    ];

    /// The element name.
    pub fn element(self) -> &'static str {
        match self {
            Self::RealTimeRequest => "COREEnvelopeRealTimeRequest",
            Self::RealTimeResponse => "COREEnvelopeRealTimeResponse",
            Self::BatchSubmission => "COREEnvelopeBatchSubmission",
            Self::BatchSubmissionResponse => "COREEnvelopeBatchSubmissionResponse",
            Self::BatchResultsRetrievalRequest => "COREEnvelopeBatchResultsRetrievalRequest",
            Self::BatchResultsRetrievalResponse => "COREEnvelopeBatchResultsRetrievalResponse",
        }
    }

    fn is_response(self) -> bool {
        matches!(
            self,
            Self::RealTimeResponse
                | Self::BatchSubmissionResponse
                | Self::BatchResultsRetrievalResponse
        )
    }

    /// Whether the payload travels base64-encoded (batch messages) rather than inline.
    fn is_batch(self) -> bool {
        !matches!(self, Self::RealTimeRequest | Self::RealTimeResponse)
    }
}

/// CORE payload types for the transactions we exchange.
pub mod payload_type {
    /// 270 request.
    pub const ELIGIBILITY_REQUEST: &str = "X12_270_Request_005010X279A1";
    /// 271 response.
    pub const ELIGIBILITY_RESPONSE: &str = "X12_271_Response_005010X279A1";
    /// 276 request.
    pub const STATUS_REQUEST: &str = "X12_276_Request_005010X212";
    /// 277 response.
    pub const STATUS_RESPONSE: &str = "X12_277_Response_005010X212";
    /// 837P batch.
    pub const PROFESSIONAL_CLAIM: &str = "X12_837_Request_005010X222A1";
    /// 837I batch.
    pub const INSTITUTIONAL_CLAIM: &str = "X12_837_Request_005010X223A2";
    /// The receipt of a batch submission.
    pub const BATCH_RECEIPT: &str = "X12_BatchReceiptConfirmation";
    /// Asks for a batch's 999.
    pub const ACK_999_REQUEST: &str = "X12_999_RetrievalRequest_005010X231A1";
    /// A batch's 999.
    pub const ACK_999_RESPONSE: &str = "X12_999_Response_005010X231A1";
    /// Asks for a batch's 277CA.
    pub const ACK_277CA_REQUEST: &str = "X12_277CA_RetrievalRequest_005010X214";
    /// A batch's 277CA.
    pub const ACK_277CA_RESPONSE: &str = "X12_277CA_Response_005010X214";
}

/// CORE error codes (the `ErrorCode` of a response).
pub mod error_code {
    /// All went well.
    pub const SUCCESS: &str = "Success";
    /// The payload type is not one the receiver takes.
    pub const PAYLOAD_TYPE_INCORRECT: &str = "PayloadTypeIncorrect";
    /// The sender is not authorized.
    pub const UNAUTHORIZED: &str = "UnAuthorized";
    /// The rule version is not one the receiver speaks.
    pub const VERSION_MISMATCH: &str = "VersionMismatch";
    /// The envelope is missing a required element or is malformed.
    pub const ENVELOPE_ERROR: &str = "EnvelopeError";
    /// The checksum does not match the payload.
    pub const CHECKSUM_MISMATCH: &str = "ChecksumMismatched";
    /// No results are ready for a retrieval yet.
    pub const NO_RESULTS: &str = "NoBatchResultsFile";
}

/// One CORE message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMessage {
    /// Which message.
    pub kind: MessageKind,
    /// `PayloadType`.
    pub payload_type: String,
    /// `PayloadID`: a UUID the sender makes; a response echoes the request's.
    pub payload_id: String,
    /// `TimeStamp`.
    pub timestamp: DateTime<Utc>,
    /// `SenderID`.
    pub sender_id: String,
    /// `ReceiverID`.
    pub receiver_id: String,
    /// `Payload`: the X12 (decoded when it travelled in base64).
    pub payload: Option<Vec<u8>>,
    /// `ErrorCode` (responses).
    pub error_code: Option<String>,
    /// `ErrorMessage` (responses).
    pub error_message: Option<String>,
}

/// A user name and password for the WS-Security header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `wsse:Username`.
    pub username: String,
    /// `wsse:Password`.
    pub password: String,
}

/// Why a SOAP message could not be read as a CORE envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Not XML.
    #[error("not XML: {0}")]
    Xml(String),
    /// XML, but not a SOAP 1.2 envelope with a CORE message in its body.
    #[error("not a CORE envelope: {0}")]
    NotCore(String),
    /// A required element is missing or empty.
    #[error("{message} is missing {element}")]
    Missing {
        /// The message.
        message: &'static str,
        /// The element.
        element: &'static str,
    },
    /// A value is malformed.
    #[error("{element}: {message}")]
    Invalid {
        /// The element.
        element: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The rule version is not 2.2.0.
    #[error("CORERuleVersion {0} is not 2.2.0")]
    Version(String),
    /// The batch payload does not match its `CheckSum` or `PayloadLength`.
    #[error("the payload does not match its {0}")]
    Checksum(&'static str),
    /// The message is larger or deeper than a CORE envelope can be.
    #[error("the envelope is over the limit: {0}")]
    TooLarge(String),
    /// The other side answered with a SOAP fault.
    #[error("SOAP fault {code}: {reason}")]
    Fault {
        /// `soap:Code/soap:Value`.
        code: String,
        /// `soap:Reason/soap:Text`.
        reason: String,
    },
}

impl EnvelopeError {
    /// The CORE error code that answers this problem.
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::Version(_) => error_code::VERSION_MISMATCH,
            Self::Checksum(_) => error_code::CHECKSUM_MISMATCH,
            _ => error_code::ENVELOPE_ERROR,
        }
    }
}

/// A parsed SOAP message: the CORE message and the credentials its header carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The message.
    pub message: CoreMessage,
    /// The WS-Security UsernameToken, when sent.
    pub credentials: Option<Credentials>,
}

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

fn element(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, "<{name}>");
    escape(value, out);
    let _ = write!(out, "</{name}>");
}

fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl CoreMessage {
    /// A request of `kind` with a fresh payload id.
    pub fn request(
        kind: MessageKind,
        payload_type: &str,
        sender_id: &str,
        receiver_id: &str,
        payload: Option<Vec<u8>>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            kind,
            payload_type: payload_type.into(),
            payload_id: uuid::Uuid::now_v7().to_string(),
            timestamp: at,
            sender_id: sender_id.into(),
            receiver_id: receiver_id.into(),
            payload,
            error_code: None,
            error_message: None,
        }
    }

    /// The response of `kind` to `self`: its payload id echoed, sender and receiver swapped.
    pub fn respond(
        &self,
        kind: MessageKind,
        payload_type: &str,
        payload: Option<Vec<u8>>,
        error_code: &str,
        error_message: &str,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            kind,
            payload_type: payload_type.into(),
            payload_id: self.payload_id.clone(),
            timestamp: at,
            sender_id: self.receiver_id.clone(),
            receiver_id: self.sender_id.clone(),
            payload,
            error_code: Some(error_code.into()),
            error_message: Some(error_message.into()),
        }
    }

    /// Whether a response says `Success`.
    pub fn succeeded(&self) -> bool {
        self.error_code.as_deref() == Some(error_code::SUCCESS)
    }

    /// The message as a SOAP 1.2 envelope, with a WS-Security UsernameToken when
    /// `credentials` are given.
    pub fn to_soap(&self, credentials: Option<&Credentials>) -> String {
        let mut out =
            String::with_capacity(1024 + self.payload.as_ref().map_or(0, |p| p.len() * 2));
        let _ = write!(
            out,
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_NS}">"#
        );
        match credentials {
            Some(c) => {
                let _ = write!(
                    out,
                    r#"<soapenv:Header><wsse:Security xmlns:wsse="{WSSE_NS}"><wsse:UsernameToken>"#
                );
                element(&mut out, "wsse:Username", &c.username);
                element(&mut out, "wsse:Password", &c.password);
                out.push_str("</wsse:UsernameToken></wsse:Security></soapenv:Header>");
            }
            None => out.push_str("<soapenv:Header/>"),
        }
        let name = self.kind.element();
        let _ = write!(out, r#"<soapenv:Body><cor:{name} xmlns:cor="{CORE_NS}">"#);
        element(&mut out, "PayloadType", &self.payload_type);
        element(
            &mut out,
            "ProcessingMode",
            if self.kind.is_batch() {
                "Batch"
            } else {
                "RealTime"
            },
        );
        element(&mut out, "PayloadID", &self.payload_id);
        let payload = self.payload.as_deref();
        if self.kind.is_batch()
            && let Some(p) = payload
        {
            element(&mut out, "PayloadLength", &p.len().to_string());
        }
        element(
            &mut out,
            "TimeStamp",
            &self.timestamp.to_rfc3339_opts(SecondsFormat::Secs, true),
        );
        element(&mut out, "SenderID", &self.sender_id);
        element(&mut out, "ReceiverID", &self.receiver_id);
        element(&mut out, "CORERuleVersion", RULE_VERSION);
        if let Some(p) = payload {
            if self.kind.is_batch() {
                element(&mut out, "CheckSum", &sha1_hex(p));
                element(
                    &mut out,
                    "Payload",
                    &base64::engine::general_purpose::STANDARD.encode(p),
                );
            } else {
                element(&mut out, "Payload", &String::from_utf8_lossy(p));
            }
        }
        if self.kind.is_response() {
            element(
                &mut out,
                "ErrorCode",
                self.error_code.as_deref().unwrap_or(error_code::SUCCESS),
            );
            element(
                &mut out,
                "ErrorMessage",
                self.error_message.as_deref().unwrap_or("None"),
            );
        }
        let _ = write!(out, "</cor:{name}></soapenv:Body></soapenv:Envelope>");
        out
    }
}

/// A SOAP 1.2 fault (for a message that is not a CORE envelope at all).
pub fn fault(code: &str, reason: &str) -> String {
    let mut out = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body><soapenv:Fault><soapenv:Code><soapenv:Value>"#
    );
    escape(code, &mut out);
    out.push_str(r#"</soapenv:Value></soapenv:Code><soapenv:Reason><soapenv:Text xml:lang="en">"#);
    escape(reason, &mut out);
    out.push_str(
        "</soapenv:Text></soapenv:Reason></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
    );
    out
}

/// How deep elements nest in `xml`, by a flat scan that stops once past [`MAX_DEPTH`]. It
/// skips comments, CDATA, processing instructions and declarations, and quoted attribute values;
/// it need not judge well-formedness (the parser does that), only never undercount an element
/// the parser would open.
fn nesting(xml: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut at = 0;
    let skip_to = |from: usize, end: &[u8]| {
        memchr::memmem::find(xml.get(from..).unwrap_or_default(), end)
            .map_or(xml.len(), |i| from + i + end.len())
    };
    while let Some(open) = memchr::memchr(b'<', xml.get(at..).unwrap_or_default()) {
        let start = at + open;
        let rest = xml.get(start..).unwrap_or_default();
        at = if rest.starts_with(b"<!--") {
            skip_to(start, b"-->")
        } else if rest.starts_with(b"<![CDATA[") {
            skip_to(start, b"]]>")
        } else if rest.starts_with(b"<?") {
            skip_to(start, b"?>")
        } else if rest.starts_with(b"<!") {
            skip_to(start, b">")
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            skip_to(start, b">")
        } else {
            // An opening tag: find its end outside quoted attribute values.
            let mut quote = None;
            let mut end = xml.len();
            let mut closed = false;
            for (i, &b) in rest.iter().enumerate().skip(1) {
                match (quote, b) {
                    (Some(q), _) if b == q => quote = None,
                    (Some(_), _) => {}
                    (None, b'"' | b'\'') => quote = Some(b),
                    (None, b'>') => {
                        closed = rest.get(i - 1) == Some(&b'/');
                        end = start + i + 1;
                        break;
                    }
                    _ => {}
                }
            }
            if !closed {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > MAX_DEPTH {
                    return deepest;
                }
            }
            end
        };
    }
    deepest
}

/// The first child element of `node` named `name` (any namespace).
fn child<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    name: &str,
) -> Option<roxmltree::Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Reads a SOAP 1.2 message carrying a CORE envelope (or a SOAP fault, as an error).
///
/// Bounded before anything is built: at most [`MAX_ENVELOPE_BYTES`], [`MAX_DEPTH`] elements
/// deep (checked by a flat scan, so no recursion ever sees a deeper document), no DTD.
pub fn parse(xml: &[u8]) -> Result<Received, EnvelopeError> {
    if xml.len() > MAX_ENVELOPE_BYTES {
        return Err(EnvelopeError::TooLarge(format!(
            "{} bytes, over {MAX_ENVELOPE_BYTES}",
            xml.len()
        )));
    }
    let text = std::str::from_utf8(xml).map_err(|e| EnvelopeError::Xml(e.to_string()))?;
    let depth = nesting(text.as_bytes());
    if depth > MAX_DEPTH {
        return Err(EnvelopeError::TooLarge(format!(
            "elements nested {depth} deep, over {MAX_DEPTH}"
        )));
    }
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| EnvelopeError::Xml(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Envelope" || root.tag_name().namespace() != Some(SOAP_NS) {
        return Err(EnvelopeError::NotCore(format!(
            "the root is {:?}, not a SOAP 1.2 Envelope",
            root.tag_name().name()
        )));
    }
    let credentials = child(root, "Header")
        .and_then(|h| child(h, "Security"))
        .and_then(|s| child(s, "UsernameToken"))
        .map(|t| Credentials {
            username: child(t, "Username")
                .and_then(|n| n.text())
                .unwrap_or_default()
                .to_string(),
            password: child(t, "Password")
                .and_then(|n| n.text())
                .unwrap_or_default()
                .to_string(),
        });
    let body = child(root, "Body").ok_or(EnvelopeError::NotCore("no soap:Body".into()))?;
    let Some(content) = body.children().find(|c| c.is_element()) else {
        return Err(EnvelopeError::NotCore("an empty soap:Body".into()));
    };
    if content.tag_name().name() == "Fault" {
        let code = child(content, "Code")
            .and_then(|c| child(c, "Value"))
            .and_then(|v| v.text())
            .unwrap_or("unknown");
        let reason = child(content, "Reason")
            .and_then(|r| child(r, "Text"))
            .and_then(|t| t.text())
            .unwrap_or("");
        return Err(EnvelopeError::Fault {
            code: code.trim().to_string(),
            reason: reason.trim().to_string(),
        });
    }
    let name = content.tag_name().name();
    let kind = MessageKind::ALL
        .into_iter()
        .find(|k| k.element() == name)
        .ok_or_else(|| EnvelopeError::NotCore(format!("{name} is not a CORE message")))?;
    let message = kind.element();
    let value = |element: &'static str| -> Option<String> {
        child(content, element)
            .map(|n| n.text().unwrap_or_default().trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let required =
        |element: &'static str| value(element).ok_or(EnvelopeError::Missing { message, element });
    let version = required("CORERuleVersion")?;
    if version != RULE_VERSION {
        return Err(EnvelopeError::Version(version));
    }
    let timestamp = DateTime::parse_from_rfc3339(&required("TimeStamp")?)
        .map_err(|e| EnvelopeError::Invalid {
            element: "TimeStamp",
            message: e.to_string(),
        })?
        .with_timezone(&Utc);
    let payload = match child(content, "Payload") {
        None => None,
        // Inline X12 keeps its bytes exactly (no trimming: the segment terminator may be a
        // newline).
        Some(node) if !kind.is_batch() => Some(
            node.text()
                .unwrap_or_default()
                .trim_start()
                .as_bytes()
                .to_vec(),
        ),
        Some(node) => {
            let encoded: String = node.text().unwrap_or_default().split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.as_bytes())
                .map_err(|e| EnvelopeError::Invalid {
                    element: "Payload",
                    message: format!("not base64: {e}"),
                })?;
            if let Some(length) = value("PayloadLength")
                && length.parse::<usize>().ok() != Some(bytes.len())
            {
                return Err(EnvelopeError::Checksum("PayloadLength"));
            }
            if let Some(sum) = value("CheckSum")
                && !sum.eq_ignore_ascii_case(&sha1_hex(&bytes))
            {
                return Err(EnvelopeError::Checksum("CheckSum"));
            }
            Some(bytes)
        }
    };
    if matches!(
        kind,
        MessageKind::RealTimeRequest | MessageKind::BatchSubmission
    ) && payload.as_ref().is_none_or(|p| p.is_empty())
    {
        return Err(EnvelopeError::Missing {
            message,
            element: "Payload",
        });
    }
    Ok(Received {
        message: CoreMessage {
            kind,
            payload_type: required("PayloadType")?,
            payload_id: required("PayloadID")?,
            timestamp,
            sender_id: required("SenderID")?,
            receiver_id: required("ReceiverID")?,
            payload,
            error_code: value("ErrorCode"),
            error_message: value("ErrorMessage"),
        },
        credentials,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 10, 20, 34).unwrap()
    }

    #[test]
    fn a_deeply_nested_envelope_is_refused_before_a_tree_is_built_even_on_a_small_stack() {
        // 4,000 nested elements (12 KB) once overflowed a 2 MiB stack; on a 256 KiB one the
        // answer must still be an error.
        let mut xml = format!(r#"<e:Envelope xmlns:e="{SOAP_NS}"><e:Body>"#);
        xml.push_str(&"<a>".repeat(4_000));
        xml.push_str(&"</a>".repeat(4_000));
        xml.push_str("</e:Body></e:Envelope>");
        let answer = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || parse(xml.as_bytes()).map(|_| ()).map_err(|e| e.to_string()))
            .unwrap()
            .join()
            .unwrap();
        let err = answer.unwrap_err();
        assert!(err.contains("nested") && err.contains("over 64"), "{err}");
    }

    #[test]
    fn nesting_skips_what_is_not_an_element_and_counts_what_is() {
        assert_eq!(
            nesting(b"<a><b/><c x='>' y=\"/>\"><!-- <d><d><d> --><![CDATA[<e><e>]]></c></a>"),
            2
        );
        assert_eq!(
            nesting(b"<?xml version='1.0'?><!DOCTYPE a><a><b><c></c></b></a>"),
            3
        );
        assert_eq!(nesting(b"<a><a><a"), 3);
    }

    #[test]
    fn an_envelope_over_the_size_limit_is_refused_unread() {
        let big = vec![b' '; MAX_ENVELOPE_BYTES + 1];
        let err = parse(&big).unwrap_err();
        assert!(matches!(err, EnvelopeError::TooLarge(_)), "{err}");
    }

    const X12: &[u8] = b"ISA*00*          *00*          *ZZ*A&B<C>         *ZZ*PAYER          *261202*1020*^*00501*000000001*0*T*:~";

    #[test]
    fn real_time_and_batch_messages_round_trip_with_credentials_and_awkward_bytes() {
        let creds = Credentials {
            username: "hms&ach".into(),
            password: "p<w>d".into(),
        };
        for kind in MessageKind::ALL {
            let message = CoreMessage::request(
                kind,
                payload_type::ELIGIBILITY_REQUEST,
                "HMSACH",
                "PAYER&1",
                Some(X12.to_vec()),
                at(),
            );
            let message = if kind.is_response() {
                message.respond(kind, "X", Some(X12.to_vec()), "Success", "None", at())
            } else {
                message
            };
            let soap = message.to_soap(Some(&creds));
            let back = parse(soap.as_bytes()).unwrap();
            assert_eq!(back.message, message, "{kind:?}\n{soap}");
            assert_eq!(back.credentials.as_ref(), Some(&creds));
        }
    }

    #[test]
    fn a_batch_payload_travels_in_base64_with_its_length_and_sha1() {
        let message = CoreMessage::request(
            MessageKind::BatchSubmission,
            payload_type::PROFESSIONAL_CLAIM,
            "HMSACH",
            "PAYER",
            Some(X12.to_vec()),
            at(),
        );
        let soap = message.to_soap(None);
        assert!(soap.contains("<ProcessingMode>Batch</ProcessingMode>"));
        assert!(soap.contains(&format!("<PayloadLength>{}</PayloadLength>", X12.len())));
        assert!(soap.contains(&format!("<CheckSum>{}</CheckSum>", sha1_hex(X12))));
        assert!(!soap.contains("ISA*00"));
        // A payload altered on the way is refused by its checksum.
        let encoded = base64::engine::general_purpose::STANDARD.encode(X12);
        let mut altered = X12.to_vec();
        altered[3] = b'X';
        let tampered = soap.replace(
            &encoded,
            &base64::engine::general_purpose::STANDARD.encode(&altered),
        );
        assert_eq!(
            parse(tampered.as_bytes()).unwrap_err(),
            EnvelopeError::Checksum("CheckSum")
        );
    }

    #[test]
    fn what_is_not_a_core_envelope_is_refused_by_name_and_a_fault_is_read() {
        assert!(matches!(parse(b"ISA*00*"), Err(EnvelopeError::Xml(_))));
        assert!(matches!(
            parse(b"<html><body/></html>"),
            Err(EnvelopeError::NotCore(_))
        ));
        let message = CoreMessage::request(
            MessageKind::RealTimeRequest,
            payload_type::STATUS_REQUEST,
            "HMSACH",
            "PAYER",
            Some(X12.to_vec()),
            at(),
        );
        let soap = message.to_soap(None);
        let old = soap.replace("<CORERuleVersion>2.2.0", "<CORERuleVersion>2.1.0");
        assert_eq!(
            parse(old.as_bytes()).unwrap_err(),
            EnvelopeError::Version("2.1.0".into())
        );
        let no_sender = soap.replace("<SenderID>HMSACH</SenderID>", "");
        assert_eq!(
            parse(no_sender.as_bytes()).unwrap_err().to_string(),
            "COREEnvelopeRealTimeRequest is missing SenderID"
        );
        let no_payload = soap.replace(
            &String::from_utf8_lossy(X12)
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;"),
            "",
        );
        assert!(matches!(
            parse(no_payload.as_bytes()),
            Err(EnvelopeError::Missing {
                element: "Payload",
                ..
            })
        ));
        let err = parse(fault("soapenv:Sender", "bad <thing>").as_bytes()).unwrap_err();
        assert_eq!(
            err,
            EnvelopeError::Fault {
                code: "soapenv:Sender".into(),
                reason: "bad <thing>".into()
            }
        );
    }
}
