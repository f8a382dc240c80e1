//! The drop zone's notifications as the ingest function receives them: S3 event
//! notifications, each the body of an SQS message, naming the objects written. The object
//! keys come URL-encoded (a space as `+`), and S3 sends a test event when the notification is
//! first set up, which names no object.

use serde::Deserialize;

/// An S3 event notification (or S3's test event, which has no records).
#[derive(Debug, Deserialize)]
struct Notification {
    #[serde(rename = "Records", default)]
    records: Vec<Record>,
}

#[derive(Debug, Deserialize)]
struct Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: Entity,
}

#[derive(Debug, Deserialize)]
struct Entity {
    object: Object,
}

#[derive(Debug, Deserialize)]
struct Object {
    key: String,
}

/// Why a message is not a notification we can read.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// Not the JSON of an S3 event.
    #[error("the message is not an S3 event notification")]
    NotJson(#[source] serde_json::Error),
    /// A key whose escapes do not decode to UTF-8.
    #[error("an object key is not URL-encoded UTF-8")]
    Key,
}

/// The keys of the objects created that `body` announces, decoded, in order.
pub fn created_keys(body: &str) -> Result<Vec<String>, NotificationError> {
    let notification: Notification =
        serde_json::from_str(body).map_err(NotificationError::NotJson)?;
    notification
        .records
        .iter()
        .filter(|r| r.event_name.starts_with("ObjectCreated"))
        .map(|r| decode(&r.s3.object.key).ok_or(NotificationError::Key))
        .collect()
}

/// `text` with `+` as a space and `%XX` as its byte; `None` when an escape is malformed or
/// the bytes are not UTF-8.
fn decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.bytes();
    while let Some(b) = rest.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = [rest.next()?, rest.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                bytes.push(u8::from_str_radix(hex, 16).ok()?);
            }
            b => bytes.push(b),
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_decoded_and_only_creations_count() {
        let body = r#"{"Records":[
            {"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"drops"},"object":{"key":"inbound/key+ins/june%20835%C3%A9.835","size":10}}},
            {"eventName":"ObjectRemoved:Delete","s3":{"object":{"key":"inbound/x.835"}}},
            {"eventName":"ObjectCreated:CompleteMultipartUpload","s3":{"object":{"key":"inbound/big.835"}}}
        ]}"#;
        assert_eq!(
            created_keys(body).unwrap(),
            ["inbound/key ins/june 835\u{e9}.835", "inbound/big.835"]
        );
        // S3's test event, sent when the notification is set up.
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"drops"}"#;
        assert!(created_keys(test).unwrap().is_empty());
        assert!(matches!(
            created_keys("nope"),
            Err(NotificationError::NotJson(_))
        ));
        let bad =
            r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"a%zz"}}}]}"#;
        assert!(matches!(created_keys(bad), Err(NotificationError::Key)));
        let not_utf8 =
            r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"a%ff"}}}]}"#;
        assert!(matches!(
            created_keys(not_utf8),
            Err(NotificationError::Key)
        ));
    }
}
