//! Admin console pages: audit log, and its CSV export.

use askama::Template;

use super::Chrome;

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    /// The filter as typed, to refill the form.
    pub kind: String,
    pub actor: String,
    pub subject: String,
    pub from: String,
    pub to: String,
    pub events: Vec<AuditLine>,
    pub next_href: Option<String>,
    pub paged: bool,
    /// The first page of the same filter.
    pub first_href: String,
    /// The export of the same filter.
    pub csv_href: String,
    pub export_limit: i64,
    pub error: Option<String>,
}

pub struct AuditLine {
    pub occurred: String,
    pub kind: String,
    pub actor: Party,
    pub subject: Party,
    pub ip: String,
    pub detail: String,
}

/// An actor or subject: a user's email where the event names a user, and the stored value.
pub struct Party {
    pub shown: String,
    pub raw: String,
}

/// The header row of the export.
pub const CSV_HEADER: [&str; 7] = ["occurred_at", "id", "kind", "actor", "subject", "ip", "detail"];

/// One CSV record (RFC 4180): fields with a comma, quote or line break are quoted, quotes
/// doubled; CRLF ends the record. A field that a spreadsheet would run as a formula (starting
/// `=`, `+`, `-`, `@`, tab or CR) gets a leading `'` (OWASP "CSV injection"): the file is read
/// by people in spreadsheets, and no audit value legitimately starts that way.
pub fn csv_record(out: &mut String, fields: &[&str]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let guarded;
        let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            guarded = format!("'{field}");
            guarded.as_str()
        } else {
            field
        };
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_needs_quoting() {
        let mut out = String::new();
        csv_record(&mut out, &["plain", "a, b", "say \"hi\"", "=1+1", "two\nlines"]);
        assert_eq!(out, "plain,\"a, b\",\"say \"\"hi\"\"\",'=1+1,\"two\nlines\"\r\n");
    }
}
