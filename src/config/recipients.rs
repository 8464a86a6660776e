//! Recipients (bursting): one report definition, one run per recipient of each slot.
//!
//! A report's `[reports.recipients]` is a list in the TOML or a query on a source; `key`
//! names the column that identifies a recipient. Each recipient's columns are bound as
//! named parameters in the report's queries (`:partner_id`) and fill `{recipient.COLUMN}`
//! placeholders in file names, mail subjects and bodies and destination fields. The
//! placeholder's dot cannot collide with the other placeholders, which are bare words.
//!
//! A recipient value is checked where it lands, when the run uses it: in a path field or
//! a file name it must be one plain name (no `/`, `\`, `..`, control characters); in an
//! address it must parse as one mailbox. A hostile value fails that recipient's run only.

use serde::{Deserialize, Serialize};

use crate::template::{Part, Template, RECIPIENT_PREFIX};

/// Where a report's recipients come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipients {
    /// The column that identifies a recipient: unique and non-empty in each slot.
    pub key: String,
    pub from: RecipientsFrom,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RecipientsFrom {
    /// Listed in the configuration (in its order), with the columns every entry has.
    List {
        columns: Vec<String>,
        list: Vec<Recipient>,
    },
    /// One row per recipient of `query` on `source`, evaluated at each slot with the
    /// window parameters bound.
    Query { source: String, query: String },
}

impl Recipients {
    /// The recipients of a list (`None` for a query: known at each slot only).
    pub fn listed(&self) -> Option<&[Recipient]> {
        match &self.from {
            RecipientsFrom::List { list, .. } => Some(list),
            RecipientsFrom::Query { .. } => None,
        }
    }
}

/// One value of a recipient: text or an integer (a query's NULL is empty text, a real
/// its shortest text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecipientValue {
    Int(i64),
    Text(String),
}

impl RecipientValue {
    pub fn text(&self) -> String {
        match self {
            RecipientValue::Int(i) => i.to_string(),
            RecipientValue::Text(t) => t.clone(),
        }
    }
}

/// One recipient of one slot: its key and its columns, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub key: String,
    pub values: Vec<(String, RecipientValue)>,
}

impl Recipient {
    pub fn get(&self, column: &str) -> Option<&RecipientValue> {
        self.values
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, v)| v)
    }

    /// The columns as JSON, as the ledger keeps them.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.values).expect("plain values serialize")
    }

    pub fn from_json(key: &str, json: &str) -> Result<Recipient, String> {
        let values = serde_json::from_str(json)
            .map_err(|e| format!("unreadable recipient columns in the ledger: {e}"))?;
        Ok(Recipient {
            key: key.to_string(),
            values,
        })
    }
}

/// Builds the recipients of one slot from rows of `columns`, refusing a missing, empty
/// or duplicate key (the whole slot: which recipient would be meant is unclear).
pub fn from_rows(
    key: &str,
    columns: &[String],
    rows: Vec<Vec<RecipientValue>>,
) -> Result<Vec<Recipient>, String> {
    let Some(k) = columns.iter().position(|c| c == key) else {
        return Err(format!(
            "the recipients have no column \"{key}\" (the `key`); columns: {}",
            columns.join(", ")
        ));
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        let id = row[k].text();
        if id.is_empty() {
            return Err(format!(
                "recipient {} has an empty key \"{key}\"; every recipient needs one",
                i + 1
            ));
        }
        if !seen.insert(id.clone()) {
            return Err(format!(
                "the key \"{key}\" = \"{}\" is given to more than one recipient; keys must be unique",
                id.escape_default()
            ));
        }
        out.push(Recipient {
            key: id,
            values: columns.iter().cloned().zip(row).collect(),
        });
    }
    Ok(out)
}

/// Checks a value that goes into a path or a name: one plain name.
pub fn check_name_value(value: &str) -> Result<(), String> {
    let shown = value.escape_default();
    if value.is_empty() {
        return Err("the value is empty; a path or name needs one".into());
    }
    if value == "." || value == ".." {
        return Err(format!("\"{shown}\" would leave the directory"));
    }
    if let Some(c) = value
        .chars()
        .find(|c| matches!(c, '/' | '\\') || c.is_control())
    {
        return Err(format!(
            "\"{shown}\" contains `{}`; a value in a path or name must be one plain name (the configuration writes the separators)",
            c.escape_default()
        ));
    }
    Ok(())
}

/// Checks a value that goes into a mail address field: no line breaks or other control
/// characters, and the filled field parses as one mailbox (checked by the caller).
pub fn check_address_value(value: &str) -> Result<(), String> {
    if value.chars().any(char::is_control) || value.contains(',') {
        return Err(format!(
            "\"{}\" contains a control character or a comma; one address is allowed",
            value.escape_default()
        ));
    }
    Ok(())
}

/// What a filled field is: its values are checked accordingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A path or a name: each value one plain name.
    Path,
    /// A segment of a URL's path (a webhook's URL): one plain name of letters, digits,
    /// `-`, `_` and `~` only, so that it needs no escaping and cannot reach the host,
    /// the query or another path.
    UrlPath,
    /// A mail address: no line breaks, one mailbox.
    Address,
    /// A mail subject: no control characters.
    Line,
    /// A mail body: anything.
    Text,
}

/// Whether `s` names a recipient column (a field worth filling).
pub fn has_placeholder(s: &str) -> bool {
    s.contains(&format!("{{{RECIPIENT_PREFIX}"))
}

/// The recipient columns a destination field names (`{recipient.COLUMN}`).
pub fn field_columns(s: &str) -> Result<Vec<String>, String> {
    if !has_placeholder(s) {
        return Ok(Vec::new());
    }
    let t = Template::parse(s, &[])?;
    Ok(t.recipient_columns().map(str::to_string).collect())
}

/// `value` checked for where it lands.
fn checked(value: String, field: Field) -> Result<String, String> {
    match field {
        Field::Path => check_name_value(&value)?,
        Field::UrlPath => {
            check_name_value(&value)?;
            if !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '~'))
            {
                return Err(format!(
                    "\"{}\" cannot go into a URL: letters, digits, '-', '_' and '~' only",
                    value.escape_default()
                ));
            }
        }
        Field::Address => check_address_value(&value)?,
        Field::Line if value.chars().any(char::is_control) => {
            return Err(format!(
                "\"{}\" contains a control character",
                value.escape_default()
            ))
        }
        _ => {}
    }
    Ok(value)
}

/// The text of column `c` of `r`, checked for `field`.
fn value_of(r: &Recipient, c: &str, field: Field) -> Result<String, String> {
    let v = r
        .get(c)
        .ok_or_else(|| format!("the recipient has no column \"{c}\""))?;
    checked(v.text(), field).map_err(|e| format!("{{recipient.{c}}}: {e}"))
}

/// `template` with its recipient placeholders replaced by `r`'s values, checked for
/// `field`.
pub fn fill_template(template: &Template, r: &Recipient, field: Field) -> Result<Template, String> {
    let mut parts = Vec::with_capacity(template.parts().len());
    for p in template.parts() {
        parts.push(match p {
            Part::Recipient(c) => Part::Lit(value_of(r, c, field)?),
            other => other.clone(),
        });
    }
    Ok(Template::from_parts(parts))
}

/// A destination field with its recipient placeholders filled from `r`; the filled
/// address is parsed as one mailbox.
pub fn fill(s: &str, r: &Recipient, field: Field) -> Result<String, String> {
    if !has_placeholder(s) {
        return Ok(s.to_string());
    }
    let t = Template::parse(s, &[])?;
    let mut failed = None;
    let out = t.render_with(
        |_| String::new(),
        |c| {
            value_of(r, c, field).unwrap_or_else(|e| {
                failed.get_or_insert(e);
                String::new()
            })
        },
    );
    if let Some(e) = failed {
        return Err(e);
    }
    if field == Field::Address && out.parse::<lettre::message::Mailbox>().is_err() {
        return Err(format!(
            "\"{}\" is not an email address",
            out.escape_default()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> RecipientValue {
        RecipientValue::Text(s.into())
    }

    #[test]
    fn rows_become_recipients_with_unique_keys() {
        let cols = vec!["id".to_string(), "email".to_string()];
        let r = from_rows(
            "id",
            &cols,
            vec![
                vec![RecipientValue::Int(1), text("a@x.com")],
                vec![RecipientValue::Int(2), text("b@x.com")],
            ],
        )
        .unwrap();
        assert_eq!(r[1].key, "2");
        assert_eq!(r[1].get("email"), Some(&text("b@x.com")));
        let dup = from_rows("id", &cols, vec![vec![text("a"), text("")]; 2]).unwrap_err();
        assert!(dup.contains("more than one recipient"), "{dup}");
        let empty = from_rows("id", &cols, vec![vec![text(""), text("")]]).unwrap_err();
        assert!(empty.contains("empty key"), "{empty}");
        assert!(from_rows("nope", &cols, vec![]).is_err());
    }

    #[test]
    fn values_in_paths_and_addresses() {
        assert!(check_name_value("p1").is_ok());
        for bad in ["../x", "a/b", "a\\b", "..", "", "a\nb"] {
            assert!(check_name_value(bad).is_err(), "{bad:?}");
        }
        assert!(check_address_value("a@x.com").is_ok());
        assert!(check_address_value("a@x.com\r\nBcc: evil@x.com").is_err());
        assert!(check_address_value("a@x.com, evil@x.com").is_err());
    }

    fn partner(id: &str, email: &str) -> Recipient {
        Recipient {
            key: id.into(),
            values: vec![("id".into(), text(id)), ("email".into(), text(email))],
        }
    }

    #[test]
    fn fields_are_filled_and_checked() {
        let p = partner("p1", "a@x.com");
        assert_eq!(fill("in/{recipient.id}", &p, Field::Path).unwrap(), "in/p1");
        assert_eq!(fill("plain", &p, Field::Path).unwrap(), "plain");
        assert_eq!(
            fill("{recipient.email}", &p, Field::Address).unwrap(),
            "a@x.com"
        );
        let hostile = partner("../x", "a@x.com\r\nBcc: evil@x.com");
        let e = fill("in/{recipient.id}", &hostile, Field::Path).unwrap_err();
        assert!(
            e.starts_with("{recipient.id}: \"../x\" contains `/`"),
            "{e}"
        );
        let e = fill("{recipient.email}", &hostile, Field::Address).unwrap_err();
        assert!(e.contains("control character"), "{e}");
        let e = fill("{recipient.nope}", &p, Field::Path).unwrap_err();
        assert!(e.contains("no column \"nope\""), "{e}");
        assert_eq!(
            field_columns("{recipient.id}/{recipient.email}").unwrap(),
            ["id", "email"]
        );
    }

    #[test]
    fn columns_round_trip_through_json() {
        let r = Recipient {
            key: "7".into(),
            values: vec![
                ("id".into(), RecipientValue::Int(7)),
                ("email".into(), text("a@x.com")),
            ],
        };
        assert_eq!(Recipient::from_json("7", &r.to_json()).unwrap(), r);
    }
}
