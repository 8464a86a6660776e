//! `--config DIR`: every `*.toml` file of a directory, in name order, is one
//! configuration; relative paths are relative to the directory; each problem names the
//! file it is in; `[settings]` in at most one file; a name defined once.

use crate::common::{run, tempdir, write};

const SETTINGS: &str = r#"[settings]
timezone = "UTC"
state = "../state/ledger.sqlite"

[sources.db]
kind = "sqlite"
init = ["data.sql"]
"#;

const DESTINATION: &str = r#"[destinations.out]
kind = "directory"
path = "../out"
"#;

fn report(name: &str) -> String {
    format!(
        r#"[[reports]]
name = "{name}"
type = "T"
source = "db"
destinations = ["out"]
query = "SELECT n FROM t ORDER BY n"
[reports.schedule]
frequency = "daily"
at = "6:00"
window = "yesterday"
"#
    )
}

#[test]
fn a_directory_of_files_is_one_configuration() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "conf/00-settings.toml", SETTINGS);
    write(
        d,
        "conf/data.sql",
        "create table t(n); insert into t values (1), (2);",
    );
    write(d, "conf/10-destinations.toml", DESTINATION);
    write(d, "conf/20-daily.toml", &report("Daily"));
    write(d, "conf/30-other.toml", &report("Other"));
    write(d, "conf/notes.txt", "not a configuration file");
    let out = run(d, &["--config", "conf", "validate"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    let out = run(d, &["--config", "conf", "list"]);
    assert_eq!(out.code, 0, "{out:?}");
    let names: Vec<&str> = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split("  ").next().unwrap())
        .collect();
    assert_eq!(names, ["Daily", "Other"], "in file name order");
    let out = run(
        d,
        &[
            "--config",
            "conf",
            "run",
            "other",
            "--now",
            "2026-11-30T07:00:00Z",
        ],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            0,
            "wrote T_Other_20261129_20261129.csv: 2 rows, 6 bytes\ndelivered to out: 1 file in conf/../out\n",
            ""
        )
    );
    assert!(d.join("out/T_Other_20261129_20261129.csv").is_file());
    assert!(
        d.join("state/ledger.sqlite").is_file(),
        "relative to the directory"
    );
}

#[test]
fn each_problem_names_its_file() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "conf/a.toml", &format!("{SETTINGS}\n{DESTINATION}"));
    write(
        d,
        "conf/b.toml",
        &format!(
            "{}\n[settings]\ntimezone = \"UTC\"\n\n{DESTINATION}",
            report("Daily").replace("source = \"db\"", "source = \"dbb\"")
        ),
    );
    write(d, "conf/data.sql", "create table t(n);");
    let out = run(d, &["--config", "conf", "validate"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            2,
            "",
            "reportctl: error: conf/b.toml:4:10: report \"Daily\", key `source`: unknown source \"dbb\"; did you mean \"db\"? defined: db\n\
             reportctl: error: conf/b.toml:12:1: [settings]: [settings] is already at conf/a.toml:1; at most one file of the configuration directory holds it\n\
             reportctl: error: conf/b.toml:15:15: destination \"out\": destination \"out\" is already defined at conf/a.toml:9; a name is defined once\n"
        )
    );
}

#[test]
fn syntax_errors_of_every_file_and_an_empty_directory() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "conf/a.toml", "[settings\n");
    write(d, "conf/b.toml", "x = \n");
    let out = run(d, &["--config", "conf", "validate"]);
    assert_eq!(out.code, 2, "{out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{out:?}");
    assert!(
        lines[0].starts_with("reportctl: error: conf/a.toml:1:"),
        "{out:?}"
    );
    assert!(
        lines[1].starts_with("reportctl: error: conf/b.toml:1:"),
        "{out:?}"
    );

    std::fs::create_dir(d.join("empty")).unwrap();
    let out = run(d, &["--config", "empty", "validate"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            "reportctl: error: empty: the configuration directory holds no *.toml file; give a file or a directory of them with --config\n"
        )
    );
}
