//! Where a problem is and how to say it: the value at a span, the key path at an
//! offset, TOML's type names, and syntax and serde messages in plain words.

use std::ops::Range;

use toml::de::DeValue;
use toml::Spanned;

/// The value inside `value` whose span is `span`.
pub(super) fn find_by_span<'v, 'i>(
    value: &'v DeValue<'i>,
    span: &Range<usize>,
) -> Option<&'v DeValue<'i>> {
    let children: Box<dyn Iterator<Item = &'v Spanned<DeValue<'i>>>> = match value {
        DeValue::Table(t) => Box::new(t.values()),
        DeValue::Array(a) => Box::new(a.iter()),
        _ => return None,
    };
    // The deepest value with that span: an array of tables has the span of its first
    // table. A table's span need not cover its sub-tables, so every value is looked at
    // (this runs only for an error).
    for child in children {
        if let Some(found) = find_by_span(child.get_ref(), span) {
            return Some(found);
        }
        if child.span() == *span {
            return Some(child.get_ref());
        }
    }
    None
}

/// The dotted path of the deepest key in `value` whose key or value holds `offset`.
pub(super) fn key_path_at(value: &DeValue<'_>, offset: usize, path: &mut Vec<String>) {
    match value {
        DeValue::Table(t) => {
            for (k, v) in t.iter() {
                let ks = k.span();
                let vs = v.span();
                if ks.contains(&offset) || (ks.start == offset) {
                    path.push(k.get_ref().to_string());
                    return;
                }
                if vs.contains(&offset) || vs.start == offset {
                    path.push(k.get_ref().to_string());
                    key_path_at(v.get_ref(), offset, path);
                    return;
                }
            }
        }
        DeValue::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                if v.span().contains(&offset) {
                    if let Some(last) = path.last_mut() {
                        last.push_str(&format!("[{i}]"));
                    }
                    key_path_at(v.get_ref(), offset, path);
                    return;
                }
            }
        }
        _ => {}
    }
}

pub(super) fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A TOML syntax error in plain words; a duplicate key is named (the parser says only
/// "duplicate key"), with what to do.
pub(super) fn syntax_message(text: &str, span: Option<Range<usize>>, message: &str) -> String {
    let m = clean_message(message);
    let key = span
        .clone()
        .and_then(|s| text.get(s))
        .map(|k| k.trim().trim_matches(|c| c == '[' || c == ']').trim())
        .filter(|k| !k.is_empty() && !k.contains('\n'));
    if m != "duplicate key" {
        return m;
    }
    let line_start = span
        .as_ref()
        .and_then(|s| text.get(..s.start))
        .map_or(0, |before| before.rfind('\n').map_or(0, |i| i + 1));
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    if line.starts_with('[') && !line.starts_with("[[") {
        if let Some(header) = line.split(']').next() {
            return format!(
                "the table `{header}]` appears twice; put its keys under one `{header}]`"
            );
        }
    }
    match key {
        Some(k) => {
            format!("duplicate key `{k}`: it is already set in this table; keep one of them")
        }
        None => m,
    }
}

/// serde's type words in TOML's terms.
pub(super) fn clean_message(m: &str) -> String {
    let m = m.trim_end().trim_end_matches('.');
    // "invalid type: string \"2\", expected i64" -> "expected an integer, found string \"2\""
    let m = match m
        .strip_prefix("invalid type: ")
        .and_then(|r| r.rsplit_once(", expected "))
    {
        Some((found, want)) => format!("expected {want}, found {found}"),
        None => m.to_string(),
    };
    let mut m = m
        .replace("expected i64", "expected an integer")
        .replace("expected i128", "expected an integer")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table")
        .replace("expected struct ", "expected a table ");
    if let Some(rest) = m.strip_prefix("unknown field") {
        m = format!("unknown key{rest}");
        m = m
            .replace(", expected one of", "; allowed:")
            .replace(", expected", "; allowed:");
    }
    if m == "integer number overflowed" {
        // Beyond 128 bits: no setting's range is anywhere near.
        m = "the integer is far too large (more than 38 digits); docs/configuration.md gives each key's allowed range".to_string();
    }
    if let Some(rest) = m.strip_prefix("missing field") {
        m = format!("missing key{rest}");
    }
    m
}
