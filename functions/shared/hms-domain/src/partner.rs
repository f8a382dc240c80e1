//! Trading partners as data: who we are to a payer and who the payer is to us on the envelope,
//! and whether the traffic is test or production. Adding a payer connection is a configuration
//! change, not a code change.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// ISA15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Usage {
    /// `T`: the payer tests the file and adjudicates nothing.
    Test,
    /// `P`: real claims.
    Production,
}

/// The envelope identities for one connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TradingPartner {
    /// ISA05: qualifier of our interchange id (`ZZ` mutually defined, `30` federal tax id, ...).
    pub sender_qualifier: String,
    /// ISA06: our interchange id (up to 15 characters).
    pub sender_id: String,
    /// ISA07.
    pub receiver_qualifier: String,
    /// ISA08: the payer's interchange id.
    pub receiver_id: String,
    /// GS02: our application sender code.
    pub application_sender: String,
    /// GS03: the payer's application receiver code.
    pub application_receiver: String,
    /// ISA15.
    pub usage: Usage,
    /// ISA14: whether we ask for a TA1.
    #[serde(default)]
    pub ack_requested: bool,
    /// Who we are in loop 1000A when a claim does not say (FHIR claims never do: the
    /// clearinghouse is the submitter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter: Option<crate::party::Submitter>,
}

impl TradingPartner {
    /// A partner in test usage that we (`ZZ` `HMSACH`) write to `receiver_id` (`ZZ`, its first
    /// 15 characters in ISA08), asking for no TA1: what the CLI writes to when no configuration
    /// names one, and what the tests write to.
    pub fn test_to(receiver_id: &str) -> Self {
        Self {
            sender_qualifier: "ZZ".into(),
            sender_id: "HMSACH".into(),
            receiver_qualifier: "ZZ".into(),
            receiver_id: receiver_id.chars().take(15).collect(),
            application_sender: "HMSACH".into(),
            // GS03 holds 15 characters, as ISA08 does; a longer payer id is cut as the
            // configured partners of `Connections::partner_for` cut it.
            application_receiver: receiver_id.chars().take(15).collect(),
            usage: Usage::Test,
            ack_requested: false,
            submitter: None,
        }
    }
}

/// The control numbers of one interchange, drawn from the partner's sequences (the store keeps
/// them, so no two interchanges to a partner share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlNumbers {
    /// ISA13 / IEA02 (1 to 999,999,999).
    pub interchange: u32,
    /// GS06 / GE02.
    pub group: u32,
    /// ST02 / SE02.
    pub transaction: u32,
}

/// What an outbound interchange needs beyond the partner: its control numbers and its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    /// Control numbers.
    pub control: ControlNumbers,
    /// When it was created (ISA09/ISA10, GS04/GS05, BHT04/BHT05).
    pub created: NaiveDateTime,
}

impl Envelope {
    /// The envelope of interchange `control` (its group numbered the same) holding one
    /// transaction set, created at `created`.
    pub fn new(control: u32, created: NaiveDateTime) -> Self {
        Self {
            control: ControlNumbers {
                interchange: control,
                group: control,
                transaction: 1,
            },
            created,
        }
    }
}

/// Every payer connection, as configuration: the partner for each payer id, a default for the
/// others (addressed to the payer's own id), and who we are as the submitter of claims that do
/// not say (FHIR claims).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Connections {
    /// The envelope for payers not listed: its receiver ids become the payer's id.
    pub default: TradingPartner,
    /// Payer id → its envelope.
    #[serde(default)]
    pub payers: std::collections::BTreeMap<String, TradingPartner>,
    /// The submitter (loop 1000A) of claims that name none.
    pub submitter: crate::party::Submitter,
    /// What we know of each payer that a FHIR claim may leave open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directory: Vec<PayerProfile>,
}

/// A payer as the clearinghouse knows it. A FHIR Claim names its payer by whatever
/// identifier its author had (a NAIC code, an old id) and often leaves `Coverage.type` out
/// or codes it in a vocabulary that is not X12's; the directory turns those into the payer id
/// and claim filing indicator the 837 needs, and the reader says when it used them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PayerProfile {
    /// The payer id the 837 carries (NM109 of loop 2010BB).
    pub id: String,
    /// Its name (NM103).
    pub name: String,
    /// Other identifiers it is known by (NAIC code, a former id), each matched exactly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The claim filing indicator (SBR09) its claims carry when the Coverage gives none: `CI`
    /// for a commercial payer, `MB` for Medicare Part B, `MC` for Medicaid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_filing_indicator: Option<String>,
}

impl Connections {
    /// The local stack's connections, for development and tests: HMS-ACH as `ZZ`/`HMSACH` in
    /// test mode (ISA15 `T`) to every payer, its EDI desk as the submitter.
    pub fn local() -> Self {
        Self {
            default: TradingPartner::test_to("PAYER"),
            payers: Default::default(),
            submitter: crate::party::Submitter {
                name: "HMS-ACH".into(),
                id: "HMSACH".into(),
                contact: crate::party::Contact {
                    name: "HMS-ACH EDI SUPPORT".into(),
                    phone: None,
                    email: Some("edi@hms-ach.example".into()),
                },
            },
            directory: vec![
                PayerProfile {
                    id: "842610001".into(),
                    name: "ABC COMPANY".into(),
                    aliases: vec![],
                    claim_filing_indicator: Some("CI".into()),
                },
                PayerProfile {
                    id: "999996666".into(),
                    name: "KEY INSURANCE COMPANY".into(),
                    aliases: vec!["60054".into()],
                    claim_filing_indicator: Some("CI".into()),
                },
                // The simulated payer answers this one by file, not by CORE retrieval.
                PayerProfile {
                    id: "77001".into(),
                    name: "BY FILE HEALTH PLAN".into(),
                    aliases: vec![],
                    claim_filing_indicator: Some("CI".into()),
                },
            ],
        }
    }

    /// The directory's payer known by `key`, its id or one of its aliases.
    pub fn payer(&self, key: &str) -> Option<&PayerProfile> {
        let key = key.trim();
        self.directory
            .iter()
            .find(|p| p.id == key || p.aliases.iter().any(|a| a == key))
    }

    /// The partner to write to `payer_id`.
    pub fn partner_for(&self, payer_id: &str) -> TradingPartner {
        match self.payers.get(payer_id) {
            Some(partner) => partner.clone(),
            None => TradingPartner {
                receiver_id: payer_id.chars().take(15).collect(),
                application_receiver: payer_id.chars().take(15).collect(),
                ..self.default.clone()
            },
        }
    }

    /// The sequence the interchange control numbers to `partner` are drawn from.
    pub fn sequence(partner: &TradingPartner) -> String {
        format!(
            "isa:{}:{}:{}:{}",
            partner.sender_qualifier.trim(),
            partner.sender_id.trim(),
            partner.receiver_qualifier.trim(),
            partner.receiver_id.trim()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The local stack hands its functions `infra/local/connections.json`; it must be the
    /// envelope the CLI and the tests use, or the simulator sees another sender.
    #[test]
    fn the_local_stacks_connections_are_the_local_ones() {
        let file: Connections =
            serde_json::from_str(include_str!("../../../../infra/local/connections.json"))
                .map_err(|e| e.to_string())
                .unwrap();
        assert_eq!(file, Connections::local());
    }

    /// Found by the fuzzer: a payer id of 16 characters made GS03 one too long.
    #[test]
    fn a_test_partner_cuts_a_long_payer_id_to_the_envelopes_15_characters() {
        let partner = TradingPartner::test_to("ABCDEFGHIJKLMNOPQ");
        assert_eq!(partner.receiver_id, "ABCDEFGHIJKLMNO");
        assert_eq!(partner.application_receiver, "ABCDEFGHIJKLMNO");
        let configured = Connections::local().partner_for("ABCDEFGHIJKLMNOPQ");
        assert_eq!(
            configured.application_receiver,
            partner.application_receiver
        );
    }
}
