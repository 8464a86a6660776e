# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_reportctl_global_optspecs
    string join \n c/config= v/verbose q/quiet json h/help V/version
end

function __fish_reportctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_reportctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_reportctl_using_subcommand
    set -l cmd (__fish_reportctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c reportctl -n "__fish_reportctl_needs_command" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_needs_command" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_needs_command" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_needs_command" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_needs_command" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "validate" -d 'Check the configuration and report every problem found'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "list" -d 'List the reports: status, next run, last run (time and status), schedule in words'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "plan" -d 'Show the next runs of reports and the period each covers'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "run" -d 'Run one report now, for an explicit period or its latest scheduled window'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "run-due" -d 'Run every report slot that is due: the command for cron'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "history" -d 'Show recent runs, newest first'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "status" -d 'Show one run: status, window, files, deliveries and links'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "cancel" -d 'Cancel a queued run. Runs that started or ended cannot be cancelled'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "send-test" -d 'Deliver a report\'s latest window now, as a test (at most once a minute)'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "destinations" -d 'List the configured destinations, by type and id'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "serve" -d 'Serve the pickup API: report listings with download links, and dated zips to apps'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "init" -d 'Write a starter configuration for your own database'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "check" -d 'Say whether every report\'s latest slots went well: for Nagios, Icinga or cron'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "retry" -d 'Deliver a failed, given-up or skipped run now, to the destinations that lack it'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "resend" -d 'Deliver a completed run again, on purpose (all destinations, or one)'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "ack" -d 'Settle a given-up or skipped slot, so that `check` no longer reports it'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "pause" -d 'Pause a report: set `status = "draft"` in the file that defines it'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "resume" -d 'Resume a paused report: set `status = "active"` in the file that defines it'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c reportctl -n "__fish_reportctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c reportctl -n "__fish_reportctl_using_subcommand validate" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand validate" -l offline -d 'Open no source: no SQLite database file and no PostgreSQL server. Queries are still judged from their text (one statement that only reads); whether their tables, columns and parameters exist is not checked'
complete -c reportctl -n "__fish_reportctl_using_subcommand validate" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand validate" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand validate" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand validate" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand list" -l limit -d 'Show at most this many reports' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand list" -l offset -d 'Skip this many reports first' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand list" -l now -d 'The instant "next run" is counted from; default: now. An RFC 3339 instant, a local date (its midnight) or a local date-time such as 2026-11-30T07:00, read in the settings\' time zone' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand list" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand list" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand list" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand list" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand list" -s h -l help -d 'Print help'
complete -c reportctl -n "__fish_reportctl_using_subcommand list" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand plan" -l now -d 'Plan from this instant; default: now. An RFC 3339 instant (e.g. 2026-11-25T06:00:00-05:00), a local date (2026-11-25, its midnight) or a local date-time (2026-11-25T07:00), read in the settings\' time zone' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand plan" -l count -d 'How many runs to show per report, 1 to 10000' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand plan" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand plan" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand plan" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand plan" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand plan" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -l from -d 'First day (report-zone date, included) or instant (RFC 3339) of the period' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -l to -d 'Last day (report-zone date, included) or end instant (RFC 3339, excluded)' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -s o -l output -d 'Write the files into DIR instead of delivering them; `-` writes the report\'s one file to stdout (CSV or JSON Lines; xlsx only when stdout is redirected)' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -l recipient -d 'For a report with [reports.recipients]: the recipient to run, by its key (its columns are bound as parameters and fill {recipient.COLUMN}). Required for such a report' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -l now -d 'The instant the run is for; default: now. An RFC 3339 instant, a local date (its midnight) or a local date-time such as 2026-11-30T07:00, read in the settings\' time zone' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -l no-deliver -d 'Generate the files into the spool and report them, without delivering'
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -l force -d 'Deliver even when the report\'s condition is false or its files hold no rows with send_empty = false'
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand run" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand run-due" -l now -d 'Act as if it were this instant; default: now. An RFC 3339 instant, a local date (its midnight) or a local date-time such as 2026-11-30T07:00, read in the settings\' time zone' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand run-due" -l max-parallel -d 'Execute at most N claimed runs at once (default: [settings] max_parallel, 4); 1 runs them one after another' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand run-due" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand run-due" -l dry-run -d 'Show what would run, record nothing and run nothing'
complete -c reportctl -n "__fish_reportctl_using_subcommand run-due" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand run-due" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand run-due" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand run-due" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand run-due" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand history" -l limit -d 'Show at most this many runs' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand history" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand history" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand history" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand history" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand history" -s h -l help -d 'Print help'
complete -c reportctl -n "__fish_reportctl_using_subcommand history" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand status" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand status" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand status" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand status" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c reportctl -n "__fish_reportctl_using_subcommand status" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand cancel" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand cancel" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand cancel" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand cancel" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand cancel" -s h -l help -d 'Print help'
complete -c reportctl -n "__fish_reportctl_using_subcommand cancel" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand send-test" -l recipient -d 'For a report with [reports.recipients]: the recipient to test, by its key; default: the first recipient of the window' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand send-test" -l now -d 'Take the latest slot at or before this instant; default: now. An RFC 3339 instant, a local date (its midnight) or a local date-time such as 2026-11-30T07:00, read in the settings\' time zone' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand send-test" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand send-test" -l force -d 'Deliver even when the report\'s condition is false or its files hold no rows with send_empty = false'
complete -c reportctl -n "__fish_reportctl_using_subcommand send-test" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand send-test" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand send-test" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand send-test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand send-test" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand destinations" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand destinations" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand destinations" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand destinations" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand destinations" -s h -l help -d 'Print help'
complete -c reportctl -n "__fish_reportctl_using_subcommand destinations" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand serve" -l listen -d 'Listen on this IP address and port instead of [serve] listen; port 0 takes a free port (the address is printed on stderr)' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand serve" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand serve" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand serve" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand serve" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand serve" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand init" -l sqlite -d 'A SQLite database file' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand init" -l postgres -d 'A PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand init" -l table -d 'The table the report reads (`table` or `schema.table`); default: the first one with a time column' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand init" -l time-column -d 'The column whose time decides which rows a run covers; default: the table\'s first date or time column' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand init" -l timezone -d 'The zone schedules are read in (IANA name); default: this machine\'s' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand init" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand init" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand init" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand init" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand init" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand check" -l grace -d 'Minutes after its time a slot may still be unfinished before it is late; default: [settings] check_grace_minutes (30)' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand check" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand check" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand check" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand check" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand check" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand retry" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand retry" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand retry" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand retry" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand retry" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand retry" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand resend" -l destination -d 'Deliver to this destination only (one of the report\'s)' -r
complete -c reportctl -n "__fish_reportctl_using_subcommand resend" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand resend" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand resend" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand resend" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand resend" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand resend" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand ack" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand ack" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand ack" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand ack" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand ack" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand ack" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand pause" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand pause" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand pause" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand pause" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand pause" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand resume" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand resume" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand resume" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand resume" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c reportctl -n "__fish_reportctl_using_subcommand resume" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand completions" -s c -l config -d 'The configuration file, or a directory whose *.toml files (in name order) make the configuration together' -r -F
complete -c reportctl -n "__fish_reportctl_using_subcommand completions" -s v -l verbose -d 'Say more on stderr (-v: what was done, -vv: details)'
complete -c reportctl -n "__fish_reportctl_using_subcommand completions" -s q -l quiet -d 'Say nothing on stderr but errors'
complete -c reportctl -n "__fish_reportctl_using_subcommand completions" -l json -d 'Print machine-readable JSON on stdout'
complete -c reportctl -n "__fish_reportctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c reportctl -n "__fish_reportctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "validate" -d 'Check the configuration and report every problem found'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "list" -d 'List the reports: status, next run, last run (time and status), schedule in words'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "plan" -d 'Show the next runs of reports and the period each covers'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "run" -d 'Run one report now, for an explicit period or its latest scheduled window'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "run-due" -d 'Run every report slot that is due: the command for cron'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "history" -d 'Show recent runs, newest first'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "status" -d 'Show one run: status, window, files, deliveries and links'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "cancel" -d 'Cancel a queued run. Runs that started or ended cannot be cancelled'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "send-test" -d 'Deliver a report\'s latest window now, as a test (at most once a minute)'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "destinations" -d 'List the configured destinations, by type and id'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "serve" -d 'Serve the pickup API: report listings with download links, and dated zips to apps'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "init" -d 'Write a starter configuration for your own database'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "check" -d 'Say whether every report\'s latest slots went well: for Nagios, Icinga or cron'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "retry" -d 'Deliver a failed, given-up or skipped run now, to the destinations that lack it'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "resend" -d 'Deliver a completed run again, on purpose (all destinations, or one)'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "ack" -d 'Settle a given-up or skipped slot, so that `check` no longer reports it'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "pause" -d 'Pause a report: set `status = "draft"` in the file that defines it'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "resume" -d 'Resume a paused report: set `status = "active"` in the file that defines it'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c reportctl -n "__fish_reportctl_using_subcommand help; and not __fish_seen_subcommand_from validate list plan run run-due history status cancel send-test destinations serve init check retry resend ack pause resume completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
