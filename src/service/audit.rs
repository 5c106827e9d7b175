//! Audit events: who did what to whom, written in the same transaction as the change.

use serde_json::Value;

use crate::db::models::AuditRow;

/// Builds an audit row for `kind` (e.g. `user.created`) by `actor` about `subject`.
pub fn event(kind: &str, actor: &str, subject: Option<&str>, detail: Value) -> AuditRow {
    AuditRow {
        id: uuid::Uuid::new_v4().to_string(),
        occurred_at: super::now(),
        kind: kind.to_owned(),
        actor: Some(actor.to_owned()),
        subject: subject.map(str::to_owned),
        ip: None,
        detail: detail.to_string(),
    }
}
