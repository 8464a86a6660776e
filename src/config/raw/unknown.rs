//! Every unknown key of a table, not only the first. serde's `deny_unknown_fields`
//! stops at the first unknown key and says which keys the table allows; this pass,
//! which runs only when that happens (a file without mistakes never reaches it), names
//! every key of that table outside the allowed ones, each with its "did you mean",
//! then removes them and reads the table again to find what else is wrong in it.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// The keys a table allows, from serde's "unknown field `x`, expected one of `a`, `b`"
/// (or "expected `a`", or "there are no fields"); `None` for any other error.
pub(super) fn allowed_keys(message: &str) -> Option<Vec<String>> {
    let rest = message.strip_prefix("unknown field `")?;
    let (_, rest) = rest.split_once('`')?;
    if rest.trim_start_matches(',').trim() == "there are no fields" {
        return Some(Vec::new());
    }
    let list = rest
        .strip_prefix(", expected one of ")
        .or_else(|| rest.strip_prefix(", expected "))?;
    Some(
        list.split(", ")
            .map(|k| k.trim().trim_matches('`').to_string())
            .collect(),
    )
}

/// One unknown key: its span and name.
pub(super) struct Unknown {
    pub span: Range<usize>,
    pub name: String,
}

/// Removes from `value` every key outside `allowed` of the table that holds the key
/// starting at `offset`, and returns them (empty when no such table is found).
pub(super) fn take_unknown(
    value: &mut DeValue<'_>,
    offset: usize,
    allowed: &[String],
) -> Vec<Unknown> {
    let Some(table) = table_with_key_at(value, offset) else {
        return Vec::new();
    };
    let unknown: Vec<Unknown> = table
        .keys()
        .filter(|k| !allowed.iter().any(|a| a == k.get_ref().as_ref()))
        .map(|k| Unknown {
            span: k.span(),
            name: k.get_ref().to_string(),
        })
        .collect();
    for u in &unknown {
        table.remove(u.name.as_str());
    }
    unknown
}

/// The key path (`smtp.port`, `outputs[1].kind`) inside `value` of the key that starts
/// at `offset`.
pub(super) fn path_of_key(value: &DeValue<'_>, offset: usize) -> Option<Vec<String>> {
    let DeValue::Table(t) = value else {
        return None;
    };
    t.iter().find_map(|(k, v)| {
        let name = k.get_ref().to_string();
        if k.span().start == offset {
            return Some(vec![name]);
        }
        let (name, mut rest) = match v.get_ref() {
            DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                path_of_key(item.get_ref(), offset).map(|p| (format!("{name}[{i}]"), p))
            })?,
            other => (name, path_of_key(other, offset)?),
        };
        rest.insert(0, name);
        Some(rest)
    })
}

/// The table (in `value` or below) with a key that starts at `offset`.
fn table_with_key_at<'v, 'i>(
    value: &'v mut DeValue<'i>,
    offset: usize,
) -> Option<&'v mut DeTable<'i>> {
    match value {
        DeValue::Table(t) => {
            if t.keys().any(|k| k.span().start == offset) {
                return Some(t);
            }
            t.iter_mut()
                .find_map(|(_, v)| table_with_key_at(v.get_mut(), offset))
        }
        DeValue::Array(a) => a
            .iter_mut()
            .find_map(|v| table_with_key_at(v.get_mut(), offset)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_keys_from_serde_messages() {
        assert_eq!(
            allowed_keys("unknown field `x`, expected one of `a`, `b`"),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(
            allowed_keys("unknown field `x`, expected `a`"),
            Some(vec!["a".to_string()])
        );
        assert_eq!(
            allowed_keys("unknown field `x`, there are no fields"),
            Some(vec![])
        );
        assert_eq!(
            allowed_keys("invalid type: string \"x\", expected i64"),
            None
        );
    }

    #[test]
    fn every_unknown_key_of_the_table_is_taken() {
        let text = "[a]\nx = 1\nfoo = 2\nb = { y = 1, bar = 3 }\nbaz = 4\n";
        let mut root = DeValue::Table(DeTable::parse(text).unwrap().into_inner());
        let allowed = ["x".to_string(), "b".to_string()];
        let foo = text.find("foo").unwrap();
        let got = take_unknown(&mut root, foo, &allowed);
        let names: Vec<_> = got.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["foo", "baz"]);
        assert_eq!(got[0].span.start, foo);
        let bar = text.find("bar").unwrap();
        assert_eq!(path_of_key(&root, bar).unwrap(), ["a", "b", "bar"]);
        let got = take_unknown(&mut root, bar, &["y".to_string()]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "bar");
    }
}
