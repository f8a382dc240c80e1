//! The parties that every transaction names: people and organizations, their addresses, the
//! provider, the payer, and who sends and receives the interchange.

use serde::{Deserialize, Serialize};

use crate::ids::{Npi, PayerId, TaxId};

/// The submitter and the contact for questions about the submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Submitter {
    /// Organization name.
    pub name: String,
    /// Electronic transmitter identification number the receiver assigned.
    pub id: String,
    /// Who to call.
    pub contact: Contact,
}

/// A contact: a name and at least one way to reach them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contact {
    /// Name.
    pub name: String,
    /// Telephone, ten digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The receiving payer system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Receiver {
    /// Organization name.
    pub name: String,
    /// Its id.
    pub id: String,
}

/// A person's name or an organization's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type", deny_unknown_fields)]
pub enum Name {
    /// An organization.
    Organization {
        /// Its name.
        name: String,
    },
    /// A person.
    Person {
        /// Last name.
        last: String,
        /// First name.
        first: String,
        /// Middle name or initial.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        middle: Option<String>,
        /// Suffix (Jr, III).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        suffix: Option<String>,
    },
}

/// A postal address in the United States.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    /// Street lines (one or two).
    pub lines: Vec<String>,
    /// City.
    pub city: String,
    /// State or province code.
    pub state: String,
    /// ZIP code, five or nine digits.
    pub postal_code: String,
}

/// A provider: who they are and how payers know them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Provider {
    /// National Provider Identifier: required of the billing provider (the scrubber says so);
    /// another provider without one (an attending physician before NPIs, a provider abroad)
    /// is named without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npi: Option<Npi>,
    /// Name.
    pub name: Name,
    /// Health care provider taxonomy code (10 characters, NUCC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy: Option<String>,
    /// Federal tax id (required for the billing provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<TaxId>,
    /// Which kind of tax id `tax_id` is; when not given, a person's is taken for a social
    /// security number and an organization's for an employer id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id_type: Option<TaxIdType>,
    /// Address (required for the billing provider; a street address, not a PO box).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// The kind of a federal tax id (REF01 of the provider's tax id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaxIdType {
    /// `EI`: an employer identification number.
    Ein,
    /// `SY`: a social security number (a provider billing as a person).
    Ssn,
}

impl TaxIdType {
    /// The X12 qualifier.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ein => "EI",
            Self::Ssn => "SY",
        }
    }

    /// The kind for an X12 qualifier.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "EI" => Some(Self::Ein),
            "SY" => Some(Self::Ssn),
            _ => None,
        }
    }
}

/// Sex as the 837 codes it (DMG03).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Gender {
    /// F.
    Female,
    /// M.
    Male,
    /// U.
    Unknown,
}

impl Gender {
    /// The X12 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Female => "F",
            Self::Male => "M",
            Self::Unknown => "U",
        }
    }
}

/// The payer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Payer {
    /// Name.
    pub name: String,
    /// Payer id.
    pub id: PayerId,
    /// What kind of id `id` is (NM108); a payer id (`PI`) when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_type: Option<PayerIdType>,
}

impl Payer {
    /// NM1's elements for the payer as entity `entity` (`PR` in loops 2010BB and 2100A): an
    /// organization, named, with its id and the id's qualifier.
    pub fn nm1(&self, entity: &'static str) -> [&str; 9] {
        [
            entity,
            "2",
            &self.name,
            "",
            "",
            "",
            "",
            self.id_qualifier(),
            self.id.as_str(),
        ]
    }

    /// NM108 for the payer's id.
    pub fn id_qualifier(&self) -> &'static str {
        self.id_type.unwrap_or(PayerIdType::PayerId).code()
    }
}

/// The kind of a payer's identifier (NM108 of a payer loop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PayerIdType {
    /// `PI`: the payer id trading partners agree on.
    PayerId,
    /// `XV`: the CMS National Plan and Provider Enumeration plan id.
    CmsPlanId,
}

impl PayerIdType {
    /// The X12 qualifier.
    pub fn code(self) -> &'static str {
        match self {
            Self::PayerId => "PI",
            Self::CmsPlanId => "XV",
        }
    }

    /// The kind for an X12 qualifier.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "PI" => Some(Self::PayerId),
            "XV" => Some(Self::CmsPlanId),
            _ => None,
        }
    }
}
