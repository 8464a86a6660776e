//! `{placeholder}` templates, shared by file names and mail subjects and bodies.
//! `{{` and `}}` stand for literal braces; an unknown placeholder is an error that lists
//! the allowed ones.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    /// Index into the list of allowed placeholders the template was parsed with.
    Var(usize),
    /// `{recipient.COLUMN}`: a column of the run's recipient (see `config::recipients`).
    Recipient(String),
}

/// What a recipient placeholder starts with: `{recipient.partner_id}`.
pub const RECIPIENT_PREFIX: &str = "recipient.";

/// The default is the empty template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Placeholders allowed in mail subjects and bodies.
pub const MAIL_VARS: &[&str] = &[
    "name", "types", "from", "to", "window", "run_at", "rows", "files", "token", "status",
];

pub fn allowed_list(allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|n| format!("{{{n}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Template {
    pub fn parse(s: &str, allowed: &[&str]) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let mut var = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => var.push(c),
                            None => {
                                return Err(format!(
                                    "unclosed `{{` in \"{}\"; write `{{{{` for a literal brace",
                                    s.escape_default()
                                ))
                            }
                        }
                    }
                    if let Some(column) = var.strip_prefix(RECIPIENT_PREFIX) {
                        if column.is_empty()
                            || !column.chars().all(|c| c.is_alphanumeric() || c == '_')
                        {
                            return Err(format!(
                                "{{{var}}} does not name a recipient column; write {{recipient.COLUMN}} with the column's name (letters, digits, `_`)"
                            ));
                        }
                        if !lit.is_empty() {
                            parts.push(Part::Lit(std::mem::take(&mut lit)));
                        }
                        parts.push(Part::Recipient(column.to_string()));
                        continue;
                    }
                    let i = allowed.iter().position(|a| *a == var).ok_or_else(|| {
                        format!(
                            "unknown placeholder {{{var}}}; allowed: {}",
                            allowed_list(allowed)
                        )
                    })?;
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Var(i));
                }
                '}' => {
                    return Err(format!(
                        "lone `}}` in \"{}\"; write `}}}}` for a literal brace",
                        s.escape_default()
                    ))
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { parts })
    }

    pub fn from_parts(parts: Vec<Part>) -> Template {
        Template { parts }
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    pub fn uses(&self, var: usize) -> bool {
        self.parts.contains(&Part::Var(var))
    }

    /// The template with its recipient placeholders as literal text (`{recipient.id}`):
    /// what a name looks like before its recipient is known.
    pub fn keep_recipient_placeholders(&self) -> Template {
        let parts = self.parts.iter().map(|p| match p {
            Part::Recipient(c) => Part::Lit(format!("{{{RECIPIENT_PREFIX}{c}}}")),
            other => other.clone(),
        });
        Template {
            parts: parts.collect(),
        }
    }

    /// The recipient columns the template names, in order of use.
    pub fn recipient_columns(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Recipient(c) => Some(c.as_str()),
            _ => None,
        })
    }

    /// Renders with `value(i)` giving the text of placeholder `i`; recipient
    /// placeholders are left empty (see `render_with`).
    pub fn render(&self, value: impl FnMut(usize) -> String) -> String {
        self.render_with(value, |_| String::new())
    }

    /// Renders with `value(i)` giving the text of placeholder `i` and `recipient(c)`
    /// the text of `{recipient.c}`.
    pub fn render_with(
        &self,
        mut value: impl FnMut(usize) -> String,
        mut recipient: impl FnMut(&str) -> String,
    ) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => out.push_str(l),
                Part::Var(i) => out.push_str(&value(*i)),
                Part::Recipient(c) => out.push_str(&recipient(c)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let t = Template::parse("{a}-{{lit}}-{b}{a}", &["a", "b"]).unwrap();
        assert_eq!(t.render(|i| ["x", "y"][i].to_string()), "x-{lit}-yx");
        assert!(t.uses(1));
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            Template::parse("{c}", &["a", "b"]).unwrap_err(),
            "unknown placeholder {c}; allowed: {a}, {b}"
        );
        assert!(Template::parse("{a", &["a"])
            .unwrap_err()
            .contains("unclosed"));
        assert!(Template::parse("a}", &["a"]).unwrap_err().contains("lone"));
        assert!(Template::parse("{recipient.}", &[])
            .unwrap_err()
            .contains("does not name a recipient column"));
        assert!(Template::parse("{recipient.a/b}", &[]).is_err());
    }

    #[test]
    fn recipient_placeholders() {
        let t = Template::parse("in/{recipient.id}-{a}", &["a"]).unwrap();
        assert_eq!(t.recipient_columns().collect::<Vec<_>>(), ["id"]);
        assert_eq!(
            t.render_with(|_| "x".into(), |c| format!("<{c}>")),
            "in/<id>-x"
        );
        assert_eq!(t.render(|_| "x".into()), "in/-x");
    }
}
