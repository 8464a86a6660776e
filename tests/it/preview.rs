//! The preview in the mail, against the real SMTP server (scripts/test): an HTML part
//! beside the unchanged text part (multipart/alternative inside multipart/mixed with
//! the attachments), every value escaped, NULL shown apart, the rows cut to
//! `preview_rows` with a note; `preview_rows = 0` sends the old single-part mail; a
//! retry from the spool (another process) still has the table.

use crate::common::fixtures::*;
use crate::common::servers::env;

/// Rows whose text needs escaping (`<script>`, `&`, quotes), NULL and empty text in
/// `note`, a 130-character label; 5 rows.
const DATA: &str = "create table t(day text, n integer, label text, note text);
insert into t values
  ('2026-11-23', 1, '<script>alert(\"x\")</script>', 'a & b'),
  ('2026-11-23', 2, 'Tom''s <b>bold</b>', NULL),
  ('2026-11-23', 3, replace(hex(zeroblob(130)), '00', 'y'), ''),
  ('2026-11-23', 4, 'four', 'x'),
  ('2026-11-23', 5, 'five', 'y');
";

fn mail_dest(marker: &str, extra: &str) -> String {
    format!("[destinations.team]\nkind = \"email\"\nto = [\"ann-{marker}@example.com\"]\nbody = \"Files: {{files}}\\n\"\n{extra}\n\n")
}

fn workspace(marker: &str, mail_extra: &str) -> Workspace {
    workspace_of(
        marker,
        mail_extra,
        "select n, label, note from t order by n",
    )
}

fn workspace_of(marker: &str, mail_extra: &str, query: &str) -> Workspace {
    let mut ws = Workspace::new(0);
    crate::common::write(ws.path(), "events.sql", DATA);
    ws.secrets(&["SMTP"]);
    let query = format!("query = \"{query}\"");
    ws.config(&format!(
        "{}{}{}[[reports]]\nname = \"Preview\"\ntype = \"VIEWS\"\nsource = \"ev\"\ndestinations = [\"team\"]\n{query}\n[reports.schedule]\nfrequency = \"daily\"\nat = \"06:00\"\n",
        settings(""),
        smtp_settings(),
        mail_dest(marker, mail_extra),
    ));
    ws
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn the_html_part_is_escaped_and_cut_to_preview_rows() {
    let marker = format!("preview{:x}", rand_u32());
    let ws = workspace(&marker, "preview_rows = 3");
    let (out, _) = ws.run_report("Preview");
    assert_eq!(out.code, 0, "{out:?}");
    let mails = mails(&marker);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(
        m.structure,
        "multipart/mixed[multipart/alternative[text/plain,text/html],text/csv]"
    );
    let file = "VIEWS_Preview_20261123_20261123.csv";
    assert_eq!(
        m.body,
        format!("Files: {file}\n"),
        "the text part as before"
    );
    assert_eq!(m.attachments.len(), 1);
    let h = &m.html;
    assert!(!h.contains("<script>") && !h.contains("<b>"), "{h}");
    for escaped in [
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
        "a &amp; b",
        "Tom&#39;s &lt;b&gt;bold&lt;/b&gt;",
        "First 3 of 5 rows.",
        "font-style:italic\">NULL</td>",
        "white-space:nowrap\"></td>",
        ">Preview</h2>",
        "2026-11-23 00:00 to 2026-11-24 00:00 (UTC)",
    ] {
        assert!(h.contains(escaped), "{escaped} in {h}");
    }
    assert!(
        h.contains(&format!(">{file}</td>")),
        "the file in the summary: {h}"
    );
    assert!(
        h.contains(">3</td>") && !h.contains(">four</td>"),
        "three rows: {h}"
    );
}

#[test]
#[ignore = "needs test servers: scripts/test"]
fn preview_rows_0_sends_the_plain_mail_of_before() {
    let marker = format!("nopreview{:x}", rand_u32());
    let ws = workspace(&marker, "preview_rows = 0");
    let (out, _) = ws.run_report("Preview");
    assert_eq!(out.code, 0, "{out:?}");
    let mails = mails(&marker);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].structure, "multipart/mixed[text/plain,text/csv]");
    assert_eq!(mails[0].html, "");
}

/// The first attempt fails at the SMTP login; the next `run-due` (another process)
/// delivers the spooled file, and its mail has the preview saved by the first.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_retry_from_the_spool_still_has_the_table() {
    let marker = format!("previewretry{:x}", rand_u32());
    let mut ws = workspace(&marker, "");
    let right = env("SMTP", "SMTP_PASSWORD");
    ws.set("T_SMTP_PASSWORD", "not-the-password");
    let out = ws.run(&["run-due", "--now", "2026-11-24T05:00:00Z"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = ws.run(&["run-due", "--now", "2026-11-24T06:05:00Z"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(mails(&marker).is_empty());
    // The source changes in between: the retry must not run the query again.
    crate::common::write(
        ws.path(),
        "events.sql",
        "create table t(day text, n integer, label text, note text);\n",
    );
    ws.set("T_SMTP_PASSWORD", &right);
    let out = ws.run(&["-vv", "--json", "run-due", "--now", "2026-11-24T06:10:00Z"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("spooled files of an earlier attempt are intact"),
        "{out:?}"
    );
    let mails = mails(&marker);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let h = &mails[0].html;
    assert!(
        h.contains("5 rows, all shown."),
        "default preview_rows is 10: {h}"
    );
    assert!(h.contains(">five</td>"), "{h}");
}

/// A file of 25 columns: the mail's table shows the first 20 and says so; the file is
/// attached as usual.
#[test]
#[ignore = "needs test servers: scripts/test"]
fn a_wide_file_shows_its_first_columns_and_says_how_many_it_has() {
    let marker = format!("previewwide{:x}", rand_u32());
    let columns: Vec<String> = (0..25).map(|i| format!("n + {i} as c{i:02}")).collect();
    let query = format!("select {} from t order by n", columns.join(", "));
    let ws = workspace_of(&marker, "preview_rows = 2", &query);
    let (out, _) = ws.run_report("Preview");
    assert_eq!(out.code, 0, "{out:?}");
    let mails = mails(&marker);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let h = &mails[0].html;
    assert!(
        h.contains("First 2 of 5 rows. First 20 of 25 columns; the file has them all."),
        "{h}"
    );
    assert!(h.contains(">c19</th>") && !h.contains(">c20</th>"), "{h}");
    assert!(
        h.contains(">21</td>") && !h.contains(">22</td>"),
        "row 2 (n = 2) stops at c19 = 21: {h}"
    );
    assert_eq!(
        mails[0].attachments.len(),
        1,
        "the file is attached as usual"
    );
}
