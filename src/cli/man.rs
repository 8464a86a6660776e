//! Man pages, generated from the clap definition: `man/reportctl.1` and one page per
//! subcommand. A test fails when the files in `man/` differ from what this produces;
//! `REPORTCTL_UPDATE_MAN=1 cargo test --test it man::` rewrites them.

mod serve;

use clap::CommandFactory;

use super::Cli;

const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success, or nothing was due."),
    ("1", "A run or a delivery failed; details on stderr and in the ledger (history, status)."),
    ("2", "Usage or configuration error; the message names the file, line, report and key."),
    ("75", "Try again later: send\\-test refused by its rate limit (one test per report per minute; retry after the time it prints), or the ledger stayed locked by another process for lock_timeout_seconds (the message names the holder when known)."),
];

/// `check` follows the monitoring plugin convention instead.
const CHECK_EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "OK: every report ok, or paused (status = \"draft\")."),
    ("1", "WARNING: a slot is late, or failing with attempts left."),
    ("2", "CRITICAL: a slot was given up, or skipped by catch\\-up (until a later slot completes, retry delivers it or ack settles it)."),
    ("3", "UNKNOWN: check could not tell: a usage or configuration error, or a ledger it cannot read. For check, 2 never means a usage error."),
];

/// The top page's: every command's, and check's own 3.
const TOP_EXIT_STATUS: &[(&str, &str)] = &[
    EXIT_STATUS[0],
    EXIT_STATUS[1],
    EXIT_STATUS[2],
    ("3", "check only: UNKNOWN (see reportctl\\-check(1), whose statuses follow the Nagios/Icinga plugin convention)."),
    EXIT_STATUS[3],
];

const ENVIRONMENT: &[(&str, &str)] = &[
    ("REPORTCTL_CONFIG", "The configuration file, when \\-\\-config is not given (default: reports.toml)."),
    ("TZ", "The zone of reports and settings that name none, when it is an IANA zone name; else the system zone (a value naming no zone gets a warning)."),
    ("NO_COLOR", "When set, no colour is used."),
];

fn roff_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('-', "\\-")
}

fn section(out: &mut Vec<u8>, title: &str, items: &[(&str, &str)]) {
    out.extend_from_slice(format!(".SH \"{title}\"\n").as_bytes());
    for (term, text) in items {
        // Items are written pre-escaped where they need it.
        out.extend_from_slice(format!(".TP\n\\fB{term}\\fR\n{text}\n").as_bytes());
    }
}

fn extra_sections(out: &mut Vec<u8>, sections: &[(&str, &[serve::Block])]) {
    for (title, blocks) in sections {
        out.extend_from_slice(format!(".SH \"{title}\"\n").as_bytes());
        for (i, block) in blocks.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b".PP\n");
            }
            match block {
                serve::Block::Text(t) => {
                    out.extend_from_slice(format!("{}\n", roff_escape(t)).as_bytes());
                }
                serve::Block::Example(t) => {
                    out.extend_from_slice(b".RS 4\n.nf\n");
                    for line in t.lines() {
                        // A line starting with a dot or quote would be a request.
                        let line = roff_escape(line);
                        let guard = if line.starts_with(['.', '\'']) {
                            "\\&"
                        } else {
                            ""
                        };
                        out.extend_from_slice(format!("{guard}{line}\n").as_bytes());
                    }
                    out.extend_from_slice(b".fi\n.RE\n");
                }
            }
        }
    }
}

fn page(cmd: clap::Command, top: bool) -> (String, Vec<u8>) {
    let man = clap_mangen::Man::new(cmd.clone());
    let name = man.get_filename();
    let mut out = Vec::new();
    let write = |r: std::io::Result<()>| r.expect("writing to memory");
    write(man.render_title(&mut out));
    write(man.render_name_section(&mut out));
    write(man.render_synopsis_section(&mut out));
    write(man.render_description_section(&mut out));
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        write(man.render_options_section(&mut out));
    }
    if cmd.has_subcommands() {
        write(man.render_subcommands_section(&mut out));
    }
    if cmd.get_name() == "serve" {
        extra_sections(&mut out, serve::SECTIONS);
    }
    let status = match cmd.get_name() {
        _ if top => TOP_EXIT_STATUS,
        "check" => CHECK_EXIT_STATUS,
        _ => EXIT_STATUS,
    };
    section(&mut out, "EXIT STATUS", status);
    if top {
        section(&mut out, "ENVIRONMENT", ENVIRONMENT);
        out.extend_from_slice(
            format!(
                ".SH \"SEE ALSO\"\n{}\n",
                roff_escape("The README and docs/ of the project (docs/configuration.md for every key of the configuration), and reports.example.toml.")
            )
            .as_bytes(),
        );
    }
    write(man.render_version_section(&mut out));
    (name, out)
}

/// Every man page: (file name, roff text).
pub fn pages() -> Vec<(String, Vec<u8>)> {
    // The pages carry the plain version: the commit and build date of `--version`
    // would make them stale at every commit.
    let mut cmd = Cli::command()
        .disable_help_subcommand(true)
        .long_version(None::<&str>);
    cmd.build();
    let mut pages = vec![page(cmd.clone(), true)];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages.push(page(sub.clone(), false));
    }
    pages
}
