//! Checking a `kind = "command"` source: a program run without a shell, its arguments
//! (placeholders only as whole arguments) and its environment.

use std::ops::Range;

use toml::{Spanned, Value};

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::RawCommandSource;

impl Checker<'_> {
    pub(super) fn command_source(
        &mut self,
        r: &RawCommandSource,
        s: &Subject,
        span: &Range<usize>,
    ) -> SourceKind {
        let program = self.required(
            &r.program,
            s,
            "program",
            span,
            "the program to run (no shell is involved)",
        );
        let args = r.args.as_ref().map_or_else(Vec::new, |a| {
            a.get_ref().iter().map(|x| x.get_ref().clone()).collect()
        });
        for a in r.args.iter().flat_map(|a| a.get_ref()) {
            let known = |n: &str| {
                crate::schedule::params::PARAM_NAMES.contains(&n)
                    || crate::config::names::OTHER_PLACEHOLDERS.contains(&n)
            };
            match crate::config::names::placeholder(a.get_ref()) {
                Some(name) if !known(name) => self.err(
                    a.span(),
                    s,
                    "args",
                    format!(
                        "unknown placeholder {}; allowed (as a whole argument): {}",
                        a.get_ref(),
                        crate::config::names::allowed_placeholders()
                    ),
                ),
                _ => {}
            }
        }
        let mut env = Vec::new();
        if let Some(t) = &r.env {
            for (k, v) in t.get_ref() {
                let value = match v {
                    Value::String(x) => Some(EnvValue::Plain(x.clone())),
                    Value::Table(_) => {
                        let sv = Some(Spanned::new(t.span(), v.clone()));
                        self.secret(&sv, s, &format!("env.{k}"))
                            .map(EnvValue::Secret)
                    }
                    _ => {
                        self.err(t.span(), s, &format!("env.{k}"), "expected a string, or a secret { env = \"NAME\" } / { file = \"/path\" }");
                        None
                    }
                };
                if let Some(value) = value {
                    env.push((k.clone(), value));
                }
            }
        }
        let timeout = self.duration(
            &r.timeout_seconds,
            s,
            "timeout_seconds",
            limits::COMMAND_TIMEOUT,
        );
        SourceKind::Command(CommandSource {
            program: program.unwrap_or_default(),
            args,
            env,
            timeout,
        })
    }
}
