//! The 835's balancing rules (X221A1 section 1.10.2.1) and what a claim payment does to its
//! claim. A payer's file that does not balance is still the payer's word on each claim, so it
//! is posted, but every rule it breaks is named, where, by how much, so that finance staff
//! can take it up with the payer.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{ClaimPayment, Remittance};

/// Which balancing rule failed, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Rule {
    /// BPR02 = Σ CLP04 − Σ PLB amounts.
    Payment,
    /// CLP04 = CLP03 − Σ CAS amounts of the claim and of its service lines.
    #[serde(rename_all = "camelCase")]
    Claim {
        /// The claim payment's place in the transaction set (0-based).
        claim: usize,
    },
    /// SVC03 = SVC02 − Σ CAS amounts of the line.
    #[serde(rename_all = "camelCase")]
    Service {
        /// The claim payment's place in the transaction set (0-based).
        claim: usize,
        /// The line's place in the claim payment (0-based).
        line: usize,
    },
}

/// A broken balancing rule: what the rule expected, and what the payer sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Imbalance {
    /// The rule and where it was broken.
    #[serde(flatten)]
    pub rule: Rule,
    /// What the other amounts add up to.
    #[serde(with = "crate::amount_text")]
    pub expected: Decimal,
    /// What the payer sent.
    #[serde(with = "crate::amount_text")]
    pub sent: Decimal,
}

impl Imbalance {
    /// The rule in words, with both amounts: what an exception says.
    pub fn describe(&self) -> String {
        let (what, rule) = match &self.rule {
            Rule::Payment => (
                "the payment".to_string(),
                "BPR02 = sum of CLP04 - sum of PLB",
            ),
            Rule::Claim { claim } => (
                format!("claim payment {}", claim + 1),
                "CLP04 = CLP03 - sum of claim and line CAS",
            ),
            Rule::Service { claim, line } => (
                format!("line {} of claim payment {}", line + 1, claim + 1),
                "SVC03 = SVC02 - sum of line CAS",
            ),
        };
        format!(
            "{what} does not balance ({rule}): expected {}, sent {}",
            self.expected, self.sent
        )
    }
}

/// Every balancing rule the claim payment at `index` breaks: its own, then its lines'.
pub fn claim_imbalances(index: usize, claim: &ClaimPayment) -> Vec<Imbalance> {
    let mut found = vec![];
    let claim_level: Decimal = claim.adjustments.iter().map(|a| a.amount).sum();
    let line_level: Decimal = claim
        .services
        .iter()
        .flat_map(|s| &s.adjustments)
        .map(|a| a.amount)
        .sum();
    let expected = claim.charge - claim_level - line_level;
    if expected != claim.paid {
        found.push(Imbalance {
            rule: Rule::Claim { claim: index },
            expected,
            sent: claim.paid,
        });
    }
    for (line, service) in claim.services.iter().enumerate() {
        let adjusted: Decimal = service.adjustments.iter().map(|a| a.amount).sum();
        let expected = service.charge - adjusted;
        if expected != service.paid {
            found.push(Imbalance {
                rule: Rule::Service { claim: index, line },
                expected,
                sent: service.paid,
            });
        }
    }
    found
}

/// The payment's own rule (BPR02), when it is broken.
pub fn payment_imbalance(remittance: &Remittance) -> Option<Imbalance> {
    let b = &remittance.balance;
    (b.expected_payment != remittance.payment.amount).then_some(Imbalance {
        rule: Rule::Payment,
        expected: b.expected_payment,
        sent: remittance.payment.amount,
    })
}

/// Every balancing rule `remittance` breaks, the payment's first.
pub fn imbalances(remittance: &Remittance) -> Vec<Imbalance> {
    let mut found: Vec<Imbalance> = payment_imbalance(remittance).into_iter().collect();
    for (index, claim) in remittance.claims.iter().enumerate() {
        found.extend(claim_imbalances(index, claim));
    }
    found
}

/// What a claim payment does to its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// The payer adjudicated the claim and paid (perhaps nothing, when all of it is the
    /// patient's to pay: a deductible).
    Paid,
    /// The payer denied it: CLP02 4, or nothing paid, nothing left to the patient, and an
    /// adjustment that takes the charge.
    Denied,
    /// The payer takes back an earlier payment of the claim (CLP02 22); a correction usually
    /// follows.
    Reversal,
    /// Something else that moves no money on our claim: forwarded to another payer without
    /// processing (23), or pricing only (25).
    Informational,
}

impl ClaimPayment {
    /// What this payment does to its claim.
    pub fn disposition(&self) -> Disposition {
        match self.status_code.as_str() {
            "22" => Disposition::Reversal,
            "4" => Disposition::Denied,
            "23" | "25" => Disposition::Informational,
            _ => {
                let patient_owes = self
                    .adjustments
                    .iter()
                    .chain(self.services.iter().flat_map(|s| &s.adjustments))
                    .any(|a| a.group_code == "PR" && !a.amount.is_zero())
                    || self.patient_responsibility.is_some_and(|p| !p.is_zero());
                let adjusted_away = self
                    .adjustments
                    .iter()
                    .chain(self.services.iter().flat_map(|s| &s.adjustments))
                    .any(|a| a.group_code != "PR" && !a.amount.is_zero());
                if self.paid.is_zero() && !patient_owes && adjusted_away {
                    Disposition::Denied
                } else {
                    Disposition::Paid
                }
            }
        }
    }

    /// Σ of adjustments in `group` (`CO`, `PR`, ...), at claim and line level.
    pub fn adjusted(&self, group: &str) -> Decimal {
        self.adjustments
            .iter()
            .chain(self.services.iter().flat_map(|s| &s.adjustments))
            .filter(|a| a.group_code == group)
            .map(|a| a.amount)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::remittance::read_835;
    use hms_x12::spec::Catalog;

    fn two_claims() -> Remittance {
        let input = include_bytes!("../../tests/fixtures/remittance/two-claims.835");
        read_835(input, Catalog::embedded().unwrap())
            .unwrap()
            .remove(0)
    }

    fn money(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn a_balanced_835_breaks_no_rule() {
        let r = two_claims();
        assert_eq!(imbalances(&r), []);
        assert_eq!(r.claims[0].disposition(), Disposition::Paid);
        assert_eq!(r.claims[0].adjusted("CO"), money("70.00"));
        assert_eq!(r.claims[0].adjusted("PR"), money("50.00"));
    }

    #[test]
    fn each_rule_names_where_it_broke_and_by_how_much() {
        let mut r = two_claims();
        // A line paid 10 more than its charge less its adjustments: the line and its claim
        // break their rules; the payment, whose total is the claims' paid, balances.
        r.claims[0].services[1].paid += money("10");
        assert_eq!(
            imbalances(&r),
            [Imbalance {
                rule: Rule::Service { claim: 0, line: 1 },
                expected: money("150.00"),
                sent: money("160.00"),
            }]
        );
        r.claims[1].paid = money("700.00");
        r.balance.claims_paid = money("1080.00");
        r.balance.expected_payment = money("1080.00");
        let found = imbalances(&r);
        assert_eq!(
            found.iter().map(|i| i.rule.clone()).collect::<Vec<_>>(),
            [
                Rule::Payment,
                Rule::Service { claim: 0, line: 1 },
                Rule::Claim { claim: 1 },
            ]
        );
        assert_eq!(
            found[0].describe(),
            "the payment does not balance (BPR02 = sum of CLP04 - sum of PLB): expected 1080.00, sent 1130.00"
        );
        assert_eq!(
            found[2].describe(),
            "claim payment 2 does not balance (CLP04 = CLP03 - sum of claim and line CAS): expected 750.00, sent 700.00"
        );
    }

    #[test]
    fn a_reversal_balances_with_its_amounts_negated() {
        let mut claim = two_claims().claims.remove(1);
        claim.status_code = "22".into();
        claim.charge = -claim.charge;
        claim.paid = -claim.paid;
        for s in &mut claim.services {
            s.charge = -s.charge;
            s.paid = -s.paid;
            for a in &mut s.adjustments {
                a.amount = -a.amount;
            }
        }
        assert_eq!(claim_imbalances(0, &claim), []);
        assert_eq!(claim.disposition(), Disposition::Reversal);
    }

    #[test]
    fn denial_is_said_by_the_status_or_by_nothing_paid_and_nothing_owed() {
        let mut claim = two_claims().claims.remove(1);
        claim.status_code = "4".into();
        assert_eq!(claim.disposition(), Disposition::Denied);
        // Processed, nothing paid, all of it the patient's deductible: paid, not denied.
        claim.status_code = "1".into();
        claim.paid = Decimal::ZERO;
        claim.patient_responsibility = Some(money("900.00"));
        claim.services[0].paid = Decimal::ZERO;
        claim.services[0].adjustments[0].amount = money("900.00");
        assert_eq!(claim_imbalances(0, &claim), []);
        assert_eq!(claim.disposition(), Disposition::Paid);
        // Nothing paid, nothing owed, a contractual adjustment of the whole charge: denied.
        claim.patient_responsibility = None;
        claim.services[0].adjustments[0].group_code = "CO".into();
        claim.services[0].adjustments[0].reason_code = "50".into();
        assert_eq!(claim.disposition(), Disposition::Denied);
        claim.status_code = "23".into();
        assert_eq!(claim.disposition(), Disposition::Informational);
    }
}
