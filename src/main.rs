fn main() -> std::process::ExitCode {
    reportctl::main()
}

/// mimalloc: the commands that read every report allocate a great deal (10,000 reports:
/// `plan` 79 ms against 105 ms with the C library's allocator; see BENCHMARKS.md). Built
/// without transparent huge pages (`no_thp`), and `reportctl::main` asks the kernel for
/// none either: with them the resident memory grows by 2 MiB steps per thread, and
/// uploads and renders would no longer stay within their documented bounds.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
