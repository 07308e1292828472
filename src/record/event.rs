//! The few CloudTrail fields an analyst needs to see for a matching event.

use serde::Serialize;

use crate::json::{Kind, Value};

use super::time::{parse_event_time, EpochMs};

/// Longest text kept per field (longer values are cut, with `…`).
pub(crate) const MAX_FIELD_CHARS: usize = 256;

/// A short, owned description of one CloudTrail record.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EventSummary {
    /// `eventTime` as written.
    #[serde(rename = "eventTime", skip_serializing_if = "Option::is_none")]
    pub(crate) event_time: Option<String>,
    /// `eventSource`, e.g. `ec2.amazonaws.com`.
    #[serde(rename = "eventSource", skip_serializing_if = "Option::is_none")]
    pub(crate) event_source: Option<String>,
    /// `eventName`.
    #[serde(rename = "eventName", skip_serializing_if = "Option::is_none")]
    pub(crate) event_name: Option<String>,
    /// `errorCode`.
    #[serde(rename = "errorCode", skip_serializing_if = "Option::is_none")]
    pub(crate) error_code: Option<String>,
    /// `errorMessage`.
    #[serde(rename = "errorMessage", skip_serializing_if = "Option::is_none")]
    pub(crate) error_message: Option<String>,
    /// Who: `userIdentity.arn`, else `type:userName`/`principalId`, else
    /// `invokedBy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) principal: Option<String>,
    /// `userIdentity.type`, e.g. `AssumedRole`.
    #[serde(rename = "userIdentityType", skip_serializing_if = "Option::is_none")]
    pub(crate) identity_type: Option<String>,
    /// `userIdentity.accessKeyId`.
    #[serde(rename = "accessKeyId", skip_serializing_if = "Option::is_none")]
    pub(crate) access_key_id: Option<String>,
    /// `sourceIPAddress`.
    #[serde(rename = "sourceIPAddress", skip_serializing_if = "Option::is_none")]
    pub(crate) source_ip: Option<String>,
    /// `userAgent`.
    #[serde(rename = "userAgent", skip_serializing_if = "Option::is_none")]
    pub(crate) user_agent: Option<String>,
    /// `awsRegion`.
    #[serde(rename = "awsRegion", skip_serializing_if = "Option::is_none")]
    pub(crate) region: Option<String>,
    /// `recipientAccountId`, else `userIdentity.accountId`.
    #[serde(rename = "accountId", skip_serializing_if = "Option::is_none")]
    pub(crate) account: Option<String>,
    /// `eventID`.
    #[serde(rename = "eventID", skip_serializing_if = "Option::is_none")]
    pub(crate) event_id: Option<String>,
    /// The values of the `--group-by` selectors, in their order, clipped
    /// like the other fields.
    #[serde(skip)]
    pub(crate) groups: Vec<Option<String>>,
    /// The whole record as read (`--full`).
    #[serde(skip)]
    pub(crate) record: Option<String>,
}

/// A field's value as text: strings, numbers and booleans, clipped to
/// [`MAX_FIELD_CHARS`]; objects, arrays and null are not text.
pub(crate) fn text(v: Option<Value<'_>>) -> Option<String> {
    let v = v?;
    let s = match v.kind() {
        Kind::String => v.as_str()?.into_owned(),
        Kind::Number | Kind::True | Kind::False => v.raw().to_string(),
        _ => return None,
    };
    Some(clip(s))
}

fn clip(mut s: String) -> String {
    if s.chars().count() > MAX_FIELD_CHARS {
        let cut = s.char_indices().nth(MAX_FIELD_CHARS - 1).map_or(s.len(), |(i, _)| i);
        s.truncate(cut);
        s.push('…');
    }
    s
}

impl EventSummary {
    /// Number of fields (see [`EventSummary::fields`]).
    pub(crate) const FIELDS: usize = 13;

    /// The names of [`EventSummary::fields`], as the reports write them.
    pub const NAMES: [&'static str; EventSummary::FIELDS] = [
        "eventTime",
        "eventSource",
        "eventName",
        "errorCode",
        "errorMessage",
        "principal",
        "userIdentityType",
        "accessKeyId",
        "sourceIPAddress",
        "userAgent",
        "awsRegion",
        "accountId",
        "eventID",
    ];

    /// Every field, in declaration order.
    pub(crate) fn fields(&self) -> [&Option<String>; EventSummary::FIELDS] {
        [
            &self.event_time,
            &self.event_source,
            &self.event_name,
            &self.error_code,
            &self.error_message,
            &self.principal,
            &self.identity_type,
            &self.access_key_id,
            &self.source_ip,
            &self.user_agent,
            &self.region,
            &self.account,
            &self.event_id,
        ]
    }

    /// The summary whose [`EventSummary::fields`] are `f`.
    pub(crate) fn from_fields(f: [Option<String>; EventSummary::FIELDS]) -> EventSummary {
        let [event_time, event_source, event_name, error_code, error_message, principal, identity_type, access_key_id, source_ip, user_agent, region, account, event_id] =
            f;
        EventSummary {
            event_time,
            event_source,
            event_name,
            error_code,
            error_message,
            principal,
            identity_type,
            access_key_id,
            source_ip,
            user_agent,
            region,
            account,
            event_id,
            groups: Vec::new(),
            record: None,
        }
    }

    /// Summarise a parsed record.
    pub(crate) fn of(root: Value<'_>) -> EventSummary {
        let ui = root.get("userIdentity");
        let principal = text(ui.and_then(|u| u.get("arn"))).or_else(|| {
            let u = ui?;
            let kind = text(u.get("type"));
            let who = text(u.get("userName")).or_else(|| text(u.get("principalId")));
            match (kind, who) {
                (Some(k), Some(w)) => Some(clip(format!("{k}:{w}"))),
                (k, w) => w.or(text(u.get("invokedBy"))).or(k),
            }
        });
        EventSummary {
            event_time: text(root.get("eventTime")),
            event_source: text(root.get("eventSource")),
            event_name: text(root.get("eventName")),
            error_code: text(root.get("errorCode")),
            error_message: text(root.get("errorMessage")),
            principal,
            identity_type: text(ui.and_then(|u| u.get("type"))),
            access_key_id: text(ui.and_then(|u| u.get("accessKeyId"))),
            source_ip: text(root.get("sourceIPAddress")),
            user_agent: text(root.get("userAgent")),
            region: text(root.get("awsRegion")),
            account: text(root.get("recipientAccountId")).or_else(|| text(ui.and_then(|u| u.get("accountId")))),
            event_id: text(root.get("eventID")),
            groups: Vec::new(),
            record: None,
        }
    }
}

/// Why a record has no usable time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeProblem {
    /// No `eventTime` field (or null).
    Missing,
    /// `eventTime` is present but not a timestamp.
    Unparseable,
}

/// The record's `eventTime` in epoch milliseconds.
pub fn event_time(root: Value<'_>) -> Result<EpochMs, TimeProblem> {
    event_time_of(root.get("eventTime"))
}

/// [`event_time`] from the `eventTime` member already looked up.
pub fn event_time_of(member: Option<Value<'_>>) -> Result<EpochMs, TimeProblem> {
    match member {
        None => Err(TimeProblem::Missing),
        Some(v) if v.kind() == Kind::Null => Err(TimeProblem::Missing),
        Some(v) => match v.as_str() {
            Some(s) => parse_event_time(&s).ok_or(TimeProblem::Unparseable),
            None => Err(TimeProblem::Unparseable),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Doc;

    #[test]
    fn summary_fields() {
        let text = r#"{"eventTime":"2023-07-10T11:50:01Z","eventSource":"ec2.amazonaws.com","eventName":"GetPasswordData",
            "errorCode":"Client.UnauthorizedOperation","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","accountId":"1"},
            "sourceIPAddress":"1.2.3.4","awsRegion":"us-east-1","eventID":"e1"}"#;
        let mut d = Doc::new();
        d.parse_object(text).unwrap();
        let s = EventSummary::of(d.root(text).unwrap());
        assert_eq!(s.principal.as_deref(), Some("arn:aws:sts::1:assumed-role/r/s"));
        assert_eq!(s.account.as_deref(), Some("1"));
        assert_eq!(s.error_code.as_deref(), Some("Client.UnauthorizedOperation"));
        assert_eq!(event_time(d.root(text).unwrap()), Ok(1_688_989_801_000));
    }

    #[test]
    fn principal_fallbacks_and_clipping() {
        let text =
            format!(r#"{{"userIdentity":{{"type":"IAMUser","userName":"{}"}},"eventTime":null}}"#, "x".repeat(300));
        let mut d = Doc::new();
        d.parse_object(&text).unwrap();
        let root = d.root(&text).unwrap();
        let p = EventSummary::of(root).principal.unwrap();
        assert!(p.starts_with("IAMUser:xxx") && p.ends_with('…'));
        assert_eq!(p.chars().count(), MAX_FIELD_CHARS);
        assert_eq!(event_time(root), Err(TimeProblem::Missing));
        let text = r#"{"userIdentity":{"invokedBy":"support.amazonaws.com"},"eventTime":"soon"}"#;
        d.parse_object(text).unwrap();
        let root = d.root(text).unwrap();
        assert_eq!(EventSummary::of(root).principal.as_deref(), Some("support.amazonaws.com"));
        assert_eq!(event_time(root), Err(TimeProblem::Unparseable));
    }
}
