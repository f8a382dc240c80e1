//! Acknowledgments built from a validation [`Report`]: a 999 (005010X231A1) per functional group,
//! and TA1s for interchanges.
//!
//! The 999 names every rejected transaction set with its segment (IK3) and element (IK4) errors;
//! the TA1 carries the first interchange-level note, or `000` when the envelope is sound.

use crate::delimiters::Delimiters;
use crate::finding::{AckCode, Finding, Severity};
use crate::validate::{GroupSummary, InterchangeSummary, Report};
use crate::writer::{Field, InterchangeHeader, InterchangeWriter, WriteError};

/// Where acknowledgments come from and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckOptions {
    /// Date for ISA09 (`YYMMDD`) and GS04 (`CCYYMMDD`): the `CCYYMMDD` form.
    pub date: String,
    /// Time, `HHMM`.
    pub time: String,
    /// First interchange control number to use; each interchange written takes the next.
    pub control_number: u32,
}

impl AckOptions {
    /// Options stamped with the current UTC date and time.
    pub fn now(control_number: u32) -> Self {
        let (date, time) = utc_now();
        Self {
            date,
            time,
            control_number,
        }
    }
}

/// Current UTC date (`CCYYMMDD`) and time (`HHMM`), from the system clock.
pub fn utc_now() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    let rem = secs % 86_400;
    (
        format!("{y:04}{m:02}{d:02}"),
        format!("{:02}{:02}", rem / 3600, rem % 3600 / 60),
    )
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The header of a reply to `ic`: sender and receiver swapped.
fn reply_header(
    ic: &InterchangeSummary,
    options: &AckOptions,
    control_number: u32,
) -> InterchangeHeader {
    InterchangeHeader {
        sender_qualifier: ic.receiver.0.clone(),
        sender_id: ic.receiver.1.clone(),
        receiver_qualifier: ic.sender.0.clone(),
        receiver_id: ic.sender.1.clone(),
        date: options.date.get(2..8).unwrap_or("000101").to_string(),
        time: options.time.clone(),
        control_number,
        ack_requested: false,
        usage: if ic.usage == "P" { 'P' } else { 'T' },
    }
}

/// A value safe to copy into an acknowledgment: no delimiters, at most `max` characters.
fn safe(value: &str, d: Delimiters, max: usize) -> Option<String> {
    let clean: String = value
        .chars()
        .filter(|c| {
            let b = *c as u32;
            b >= 0x20 && ![d.element, d.component, d.segment, d.repetition].contains(&(b as u8))
        })
        .take(max)
        .collect();
    (!clean.is_empty()).then_some(clean)
}

/// Writes one 999 transaction set answering `group`.
fn write_999(
    w: &mut InterchangeWriter,
    ic_index: usize,
    g_index: usize,
    group: &GroupSummary,
    findings: &[Finding],
    d: Delimiters,
) -> Result<(), WriteError> {
    w.begin_transaction("999", "0001", "005010X231A1")?;
    w.simple(
        "AK1",
        &[&group.functional_id, &group.control, &group.version],
    )?;
    let mut accepted = 0;
    for (t_index, tx) in group.transactions.iter().enumerate() {
        let mine: Vec<&Finding> = findings
            .iter()
            .filter(|f| {
                f.severity == Severity::Error
                    && f.scope.interchange == ic_index
                    && f.scope.group == Some(g_index)
                    && f.scope.transaction == Some(t_index)
            })
            .collect();
        let version = tx.version.as_deref().unwrap_or("");
        w.simple("AK2", &[&tx.id, &tx.control, version])?;
        // Group findings by segment (line): one IK3 per erroneous segment, its IK4s under it.
        let mut segment_errors = false;
        let mut i = 0;
        while let Some((&f, rest)) = mine.get(i..).and_then(<[_]>::split_first) {
            let same: Vec<&Finding> = std::iter::once(f)
                .chain(rest.iter().copied())
                .take_while(|g| g.line == f.line && g.segment_id == f.segment_id)
                .collect();
            i += same.len();
            let segment_code = same.iter().find_map(|g| match g.ack {
                AckCode::Segment(c) => Some(c),
                _ => None,
            });
            let elements: Vec<&Finding> = same
                .iter()
                .filter(|g| matches!(g.ack, AckCode::Element(_)))
                .copied()
                .collect();
            if segment_code.is_none() && elements.is_empty() {
                continue;
            }
            let id_ok = (2..=3).contains(&f.segment_id.len())
                && f.segment_id.bytes().all(|b| b.is_ascii_alphanumeric());
            if !id_ok {
                segment_errors = true;
                continue;
            }
            segment_errors = true;
            let position = f.segment_position.unwrap_or(1).to_string();
            let loop_id: String = f
                .loop_id
                .as_deref()
                .filter(|l| *l != "ST")
                .unwrap_or("")
                .chars()
                .take(4)
                .collect();
            let code = segment_code.unwrap_or("8");
            w.simple("IK3", &[&f.segment_id, &position, &loop_id, code])?;
            for e in elements.iter().take(99) {
                let Some(element) = e.element else { continue };
                let mut pos = vec![element.to_string()];
                if let Some(c) = e.component {
                    pos.push(c.to_string());
                }
                if let Some(r) = e.repetition {
                    if e.component.is_none() {
                        pos.push(String::new());
                    }
                    pos.push(r.to_string());
                }
                let reference = e
                    .data_element
                    .as_deref()
                    .filter(|r| r.bytes().all(|b| b.is_ascii_digit()))
                    .unwrap_or("");
                let bad = e
                    .value
                    .as_deref()
                    .and_then(|v| safe(v, d, 99))
                    .unwrap_or_default();
                let pos_refs: Vec<&str> = pos.iter().map(String::as_str).collect();
                w.segment(
                    "IK4",
                    &[
                        Field::Composite(pos_refs),
                        reference.into(),
                        e.ack.code().into(),
                        bad.as_str().into(),
                    ],
                )?;
            }
        }
        let mut codes: Vec<&str> = vec![];
        if segment_errors {
            codes.push("5");
        }
        for c in &tx.set_errors {
            if !codes.contains(c) {
                codes.push(c);
            }
        }
        codes.truncate(5);
        if codes.is_empty() {
            accepted += 1;
            w.simple("IK5", &["A"])?;
        } else {
            let mut values = vec!["R"];
            values.extend(codes);
            w.simple("IK5", &values)?;
        }
    }
    let received = group.transactions.len();
    let mut group_codes: Vec<&str> = vec![];
    for c in &group.group_errors {
        if !group_codes.contains(c) {
            group_codes.push(c);
        }
    }
    group_codes.truncate(5);
    let status = if !group_codes.is_empty() || (accepted == 0 && received > 0) {
        "R"
    } else if accepted < received {
        "P"
    } else {
        "A"
    };
    let (n, r, a) = (
        received.to_string(),
        received.to_string(),
        accepted.to_string(),
    );
    let mut values = vec![status, &n, &r, &a];
    values.extend(group_codes);
    w.simple("AK9", &values)?;
    w.end_transaction()
}

/// Whether a group is itself an acknowledgment (GS01 `FA`): 999s are never acknowledged with a
/// 999 (005010X231A1 allows no `FA` in AK101), so such groups are left out.
fn is_acknowledgment(group: &GroupSummary) -> bool {
    group.functional_id == "FA"
}

/// A 999 for every functional group of `report` (acknowledgment groups excepted): one interchange
/// per input interchange that has such a group. Empty when there is nothing to acknowledge.
pub fn ack_999(report: &Report, options: &AckOptions) -> Result<Vec<u8>, WriteError> {
    let d = Delimiters::default();
    let mut out = vec![];
    for (i, ic) in report.interchanges.iter().enumerate() {
        if ic.groups.iter().all(is_acknowledgment) {
            continue;
        }
        let control = options.control_number.wrapping_add(i as u32);
        let mut w = InterchangeWriter::new(&reply_header(ic, options, control), d, true)?;
        for (g_index, group) in ic
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| !is_acknowledgment(g))
        {
            let (sender, receiver) = (or_unknown(&group.receiver), or_unknown(&group.sender));
            let gcontrol = control;
            w.begin_group(
                "FA",
                &sender,
                &receiver,
                &options.date,
                &options.time,
                gcontrol.wrapping_add(g_index as u32),
                "005010X231A1",
            )?;
            write_999(&mut w, i, g_index, group, &report.findings, d)?;
            w.end_group()?;
        }
        out.extend(w.finish()?);
    }
    Ok(out)
}

fn or_unknown(value: &str) -> String {
    if value.len() >= 2 {
        value.to_string()
    } else {
        "UNKNOWN".to_string()
    }
}

/// A TA1 for every interchange of `report`: `A`/`000` when its envelope is sound, otherwise `R` with
/// the first interchange note.
pub fn ack_ta1(report: &Report, options: &AckOptions) -> Result<Vec<u8>, WriteError> {
    let d = Delimiters::default();
    let mut out = vec![];
    for (i, ic) in report.interchanges.iter().enumerate() {
        let control = options.control_number.wrapping_add(i as u32);
        let mut w = InterchangeWriter::new(&reply_header(ic, options, control), d, true)?;
        let (status, note) = match ic.notes.first() {
            Some(note) => ("R", *note),
            None => ("A", "000"),
        };
        let ic_control = safe(&ic.control, d, 9).unwrap_or_else(|| "000000000".into());
        let date = safe(&ic.date, d, 6).unwrap_or_else(|| "000101".into());
        let time = safe(&ic.time, d, 4).unwrap_or_else(|| "0000".into());
        w.interchange_segment("TA1", &[&ic_control, &date, &time, status, note])?;
        out.extend(w.finish()?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_782), (2026, 11, 25));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
