fn main() -> std::process::ExitCode {
    reportctl::main()
}
