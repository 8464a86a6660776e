use super::*;

#[test]
fn label_values_escape_backslash_quote_and_line_feed() {
    assert_eq!(escape_label("plain name"), "plain name");
    assert_eq!(
        escape_label("the \"big\" one\\x\nend"),
        "the \\\"big\\\" one\\\\x\\nend"
    );
    assert_eq!(escape_label("Zürich ü"), "Zürich ü");
}

#[test]
fn a_family_has_help_type_and_samples_with_labels_in_order() {
    let mut e = Exposition::default();
    e.family("reportctl_x_total", "counter", "Things.", |s| {
        s(
            &[("destination", "a \"b\""), ("outcome", "failed")],
            "3".into(),
        );
        s(&[], "4".into());
    });
    assert_eq!(
        e.0,
        "# HELP reportctl_x_total Things.\n# TYPE reportctl_x_total counter\n\
         reportctl_x_total{destination=\"a \\\"b\\\"\",outcome=\"failed\"} 3\n\
         reportctl_x_total 4\n"
    );
}

#[test]
fn a_family_without_samples_is_left_out() {
    let mut e = Exposition::default();
    e.family("reportctl_empty", "gauge", "Nothing.", |_| {});
    assert_eq!(e.0, "");
}

#[test]
fn times_are_unix_seconds_and_durations_seconds_with_milliseconds() {
    let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.250Z")
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(unix(t), "1767323045.250");
    assert_eq!(seconds(chrono::Duration::milliseconds(1500)), "1.500");
    assert_eq!(seconds(chrono::Duration::milliseconds(-5)), "0.000");
}

#[test]
fn the_file_is_replaced_whole_and_readable_by_all() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reportctl.prom");
    write_file(&path, "a 1\n").unwrap();
    write_file(&path, "b 2\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "b 2\n");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left behind");
}
